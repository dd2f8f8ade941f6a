"""``keel mcp``: Keel's verbs as Model Context Protocol tools, over stdio (docs/agents.md).

An AI agent gets ``validate``, ``plan``, ``explain``, ``diagram``, ``spec_schema``, ``generate``
and ``diff``. Each result is exactly the JSON document the CLI prints with ``--format json``
(built by the same functions: generator/documents.py), as structured content and as JSON text.

* ``isError`` is true when the call failed: the spec does not validate (the result is its
  ``keel.diagnostics/1`` document), a path or an argument is wrong, a write or a migration was
  refused, or Keel itself hit a bug (a one-line message, never a traceback). A stale ``check``
  or a breaking ``diff`` is a successful report whose document says ``"ok": false``.
* Paths are relative to the served root: the working directory, or ``--root DIR`` (the server
  changes into it). A path that resolves outside the root (``..``, an absolute path elsewhere, a
  symlink out) is refused, so an agent reads and writes only inside the project it was given.
* Calls run one at a time in a worker thread. The protocol owns stdout: anything else that would
  be printed there (by Python or a child process) goes to stderr instead.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable

from generator import __version__
from generator.documents import Document, usage_document

__all__ = ["TOOLS", "call", "serve"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

INSTRUCTIONS = (
    "Keel turns a YAML spec (entities, endpoints, permission rules, workflows) into a FastAPI + SQLAlchemy "
    "backend. Edit the spec, then call `validate` (every problem with a code, file:line:column and a hint; "
    "fix them all), `explain` to read the rules back in plain English, `plan` or `diff` to see what a change "
    "breaks, and `generate` (check=true first to see if the code is stale). `spec_schema` is the JSON Schema "
    "of the spec language. Paths are relative to the project root the server was started in."
)

_STR = {"type": "string"}
_PATH = {"type": "string", "minLength": 1}


def _opt(schema: dict[str, Any], description: str, default: Any = None) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}], "default": default, "description": description}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


_SPEC = {**_PATH, "description": "the spec: a directory holding keel.yaml, or a .yaml file (e.g. specs/tasks)"}


class _Tool:
    def __init__(self, name: str, fmt: str, description: str, schema: dict[str, Any],
                 run: Callable[[dict[str, Any]], Document], paths: tuple[str, ...], read_only: bool = True) -> None:
        self.name, self.format, self.description, self.schema = name, fmt, description, schema
        self.run, self.paths, self.read_only = run, paths, read_only


def _validate(a: dict[str, Any]) -> Document:
    from generator.documents import validate_document

    return validate_document([Path(a["spec"])])


def _plan(a: dict[str, Any]) -> Document:
    from generator.plan import plan_document
    from generator.diff.source import SourceError

    kwargs: dict[str, Any] = {}
    if "against" in a:  # omitted: plan_document's own default (HEAD); null: no baseline
        kwargs["against"] = a["against"]
    if a.get("out") is not None:
        kwargs["out"] = Path(a["out"])
    try:
        doc = plan_document(Path(a["spec"]), **kwargs)
    except SourceError as exc:
        return usage_document("keel.plan/1", str(exc))
    invalid = not doc.get("validation", {}).get("ok", True)
    acceptable = bool(doc.get("verdict", {}).get("acceptable"))
    return Document(doc, EXIT_OK if acceptable else EXIT_FAILED, invalid)


def _explain(a: dict[str, Any]) -> Document:
    from generator.documents import explain_document

    return explain_document(Path(a["spec"]), a.get("target"))


def _diagram(a: dict[str, Any]) -> Document:
    from generator.documents import diagram_document

    return diagram_document(Path(a["spec"]), a.get("kind") or "all", a.get("entity"))


def _spec_schema(a: dict[str, Any]) -> Document:
    from generator.schema import schema_document

    return Document(dict(schema_document()), EXIT_OK)


def _generate(a: dict[str, Any]) -> Document:
    from generator.documents import check_document, generate_document

    out = Path(a["out"]) if a.get("out") is not None else None
    if a.get("check"):
        return check_document(Path(a["spec"]), out)
    return generate_document(Path(a["spec"]), out)


def _diff(a: dict[str, Any]) -> Document:
    from generator.documents import diff_document

    specs = [a["old"]] + ([a["new"]] if a.get("new") is not None else [])
    return diff_document(specs, a.get("against"))


TOOLS: dict[str, _Tool] = {t.name: t for t in (
    _Tool("validate", "keel.diagnostics/1",
          "Validate a Keel spec. Returns the keel.diagnostics/1 document of `keel validate --format json`: every "
          "problem with its code, severity, file, line, column, JSON pointer and hint. isError when the spec "
          "has errors (warnings alone are ok).",
          _obj({"spec": _SPEC}, ("spec",)), _validate, ("spec",)),
    _Tool("plan", "keel.plan/1",
          "Everything needed to judge a spec change, without writing anything (`keel plan --format json`): "
          "validation, the diff against a git revision, the files `generate` would create/update/delete, the "
          "migration it would add, affected scenarios and a verdict. isError only when the spec does not "
          "validate; an unacceptable verdict is reported in the document.",
          _obj({"spec": _SPEC,
                "against": _opt(_STR, "git revision to compare with; omitted: HEAD; null: no comparison"),
                "out": _opt(_PATH, "generated directory (default: generated/<app>)")}, ("spec",)),
          _plan, ("spec", "out")),
    _Tool("explain", "keel.explain/1",
          "The spec's rules in plain English, generated from the rule expressions (`keel explain --format json`): "
          "who may list/read/create/update/delete, field access, invariants, computed fields, workflow "
          "transitions and approvals, actions, queries, audit, notifications.",
          _obj({"spec": _SPEC,
                "target": _opt(_STR, "one entity (Task) or one topic (Task.start, Task.delete, "
                               "Employee.bank_account); null: everything; an unknown name lists the valid ones")},
               ("spec",)), _explain, ("spec",)),
    _Tool("diagram", "keel.diagram/1",
          "Mermaid diagrams of the spec (`keel diagram --format json`): an erDiagram of the entities and their "
          "relations, and a stateDiagram-v2 per workflow.",
          _obj({"spec": _SPEC,
                "kind": {"type": "string", "enum": ["er", "state", "all"], "default": "all",
                         "description": "er (entities), state (workflows) or all"},
                "entity": _opt(_STR, "only this entity (its fields, the relations touching it, its workflow)")},
               ("spec",)), _diagram, ("spec",)),
    _Tool("spec_schema", "keel.schema/1",
          "The JSON Schema (draft 2020-12) of the Keel spec language, as `keel schema` prints it: every key a "
          "spec may have, with descriptions. Read it before writing a spec.",
          _obj({}), _spec_schema, ()),
    _Tool("generate", "keel.generate/1",
          "Generate the backend from the spec (`keel generate --format json`): writes only the files whose "
          "content changed into `out` and reports created/updated/deleted. It never overwrites a file Keel "
          "did not generate, nor writes a migration that loses data (both: isError with the reason). "
          "check=true writes nothing and returns `keel check --format json` (keel.check/1): stale, missing "
          "and extra files.",
          _obj({"spec": _SPEC,
                "out": _opt(_PATH, "output directory (default: generated/<app>)"),
                "check": {"type": "boolean", "default": False,
                          "description": "only report whether `out` is up to date; write nothing"}}, ("spec",)),
          _generate, ("spec", "out"), read_only=False),
    _Tool("diff", "keel.diff/1",
          "Classify every change between two versions of a spec (`keel diff --format json`) as api-breaking, "
          "data (destructive or not), security or safe, with stable rule ids and locations. Give old and new, "
          "or old alone with against=REV to compare the working-tree spec with itself at a git revision. A "
          "breaking change is reported (\"ok\": false), not an error.",
          _obj({"old": {**_PATH, "description": "the old spec (a path, or REV:PATH), or with `against` the spec"},
                "new": _opt(_PATH, "the new spec (a path, or REV:PATH); null with `against`"),
                "against": _opt(_STR, "a git revision (e.g. HEAD, origin/main) to compare `old` with")},
               ("old",)), _diff, ("old", "new")),
)}


class PathRefused(Exception):
    pass


def _check_path(root: Path, name: str, text: str) -> None:
    """Refuse ``text`` when it resolves outside ``root`` (``REV:PATH`` is checked on PATH)."""
    path = Path(text)
    if name in ("old", "new") and not (root / path).exists() and ":" in text and text[1:2] != ":":
        path = Path(text.partition(":")[2] or ".")  # a spec at a git revision
    resolved = (root / path).resolve()  # an absolute path stays itself
    if resolved != root and root not in resolved.parents:
        raise PathRefused(f"{name}: `{text}` is outside the served directory {root}; only paths inside it are "
                          "allowed (start `keel mcp --root DIR` to serve another directory)")


def _arguments_problem(tool: _Tool, arguments: dict[str, Any]) -> str | None:
    from jsonschema import Draft202012Validator

    errors = sorted(Draft202012Validator(tool.schema).iter_errors(arguments), key=lambda e: list(e.path))
    if not errors:
        return None
    e = errors[0]
    where = "/".join(str(p) for p in e.path)
    return f"bad arguments for `{tool.name}`: " + (f"{where}: " if where else "") + e.message


def call(name: str, arguments: dict[str, Any] | None, root: Path) -> Document:
    """One tool call, synchronously: the document, with ``error`` for an isError result."""
    tool = TOOLS.get(name)
    if tool is None:
        return usage_document("keel.error/1", f"no tool `{name}`", sorted(TOOLS))
    arguments = dict(arguments or {})
    problem = _arguments_problem(tool, arguments)
    if problem is not None:
        return usage_document(tool.format, problem)
    try:
        for key in tool.paths:
            if arguments.get(key) is not None:
                _check_path(root, key, arguments[key])
    except PathRefused as exc:
        return usage_document(tool.format, str(exc))
    try:
        return tool.run(arguments)
    except Exception as exc:  # a bug in Keel: a short message, the server carries on
        message = (f"internal error: {type(exc).__name__}: {exc}. This is a bug in Keel {__version__}, not in "
                   "the spec; run the same command with the keel CLI and KEEL_DEBUG=1 for the traceback.")
        print(f"keel mcp: {name}: {message}", file=sys.stderr)
        if os.environ.get("KEEL_DEBUG"):
            import traceback

            traceback.print_exc(file=sys.stderr)
        return Document({"format": tool.format, "ok": False, "error": message}, 3, True)


def _server(root: Path):  # type: ignore[no-untyped-def]
    import anyio
    from mcp import types
    from mcp.server.lowlevel import Server

    server: Server = Server("keel", version=__version__, instructions=INSTRUCTIONS)
    lock = anyio.Lock()  # one call at a time: two generates into one directory must not interleave

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return [types.Tool(name=t.name, title=f"keel {t.name}", description=t.description, inputSchema=t.schema,
                           annotations=types.ToolAnnotations(readOnlyHint=t.read_only, destructiveHint=False,
                                                             idempotentHint=True, openWorldHint=False))
                for t in TOOLS.values()]

    @server.call_tool(validate_input=False)  # we validate, to answer in the tool's own JSON shape
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        async with lock:
            document = await anyio.to_thread.run_sync(functools.partial(call, name, arguments, root))
        return types.CallToolResult(content=[types.TextContent(type="text", text=document.text())],
                                    structuredContent=document.doc, isError=document.error)

    return server


def serve(root: Path | None = None) -> int:
    """Serve on stdin/stdout until the client closes the connection. Exit code 2: a bad --root."""
    from io import TextIOWrapper

    import anyio
    from mcp.server.stdio import stdio_server

    if root is not None:
        if not root.is_dir():
            print(f"keel: --root {root}: not a directory", file=sys.stderr)
            return EXIT_USAGE
        os.chdir(root)
    here = Path.cwd().resolve()
    # The JSON-RPC stream gets its own copy of stdout; file descriptor 1 and sys.stdout then point at
    # stderr, so a stray print() or a child process's output cannot corrupt the stream.
    sys.stdout.flush()
    protocol_out = TextIOWrapper(os.fdopen(os.dup(sys.stdout.fileno()), "wb"), encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    server = _server(here)
    print(f"keel mcp {__version__}: serving {here} on stdio", file=sys.stderr, flush=True)

    async def run() -> None:
        async with stdio_server(stdout=anyio.wrap_file(protocol_out)) as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)
    return EXIT_OK
