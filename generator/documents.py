"""The JSON documents of ``--format json``, built once for the CLI and for ``keel mcp``.

Each function returns a ``Document``: the dict the CLI prints (``json.dumps(doc, indent=2)``),
the exit code the CLI returns, and whether the call failed rather than reported something
(``error``: the spec does not validate, a path or argument is wrong, a write or migration was
refused). A stale ``check`` or a breaking ``diff`` is a report (exit 1, ``error`` false): the
tool did its job. ``keel mcp`` turns ``error`` into the result's ``isError``.

Nothing here prints. Usage errors use the shape ``keel explain`` already prints for an unknown
target: ``{"format": ..., "ok": false, "error": "...", "valid": [...]}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

__all__ = [
    "CHECK_FORMAT", "GENERATE_FORMAT", "Document", "check_document", "diagram_document", "diff_document",
    "explain_document", "generate_document", "usage_document", "validate_document",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CHECK_FORMAT = "keel.check/1"
GENERATE_FORMAT = "keel.generate/1"
DIAGRAM_FORMAT = "keel.diagram/1"


@dataclass(frozen=True)
class Document:
    doc: dict[str, Any]
    code: int  # the CLI's exit code
    error: bool = False  # the call failed (an MCP error result), as opposed to reporting a failure

    def text(self) -> str:
        return json.dumps(self.doc, indent=2, ensure_ascii=False)


def usage_document(fmt: str, message: str, valid: Sequence[str] | None = None) -> Document:
    doc: dict[str, Any] = {"format": fmt, "ok": False, "error": message}
    if valid is not None:  # the names that would have been accepted
        doc["valid"] = list(valid)
    return Document(doc, EXIT_USAGE, True)


def _diagnostics(command: str, diagnostics, files, code: int | None = None) -> Document:  # type: ignore[no-untyped-def]
    """A failed validation (or a refused migration) as ``keel.diagnostics/1``."""
    from generator.report import diagnostics_document

    diagnostics = list(diagnostics)
    if code is None:
        io_only = all(d.code == "K115" for d in diagnostics if d.is_error)  # unreadable path: an I/O error
        code = EXIT_USAGE if io_only else EXIT_FAILED
    return Document(diagnostics_document(command, diagnostics, files, False), code, True)


def validate_document(specs: Sequence[Path]) -> Document:
    """``keel validate --format json SPEC...``."""
    from generator.pipeline import validate_path
    from generator.report import diagnostics_document

    results = [validate_path(Path(p)) for p in specs]
    diagnostics = [d for r in results for d in r.diagnostics]
    files = [f for r in results for f in r.files]
    if all(r.ok for r in results):
        return Document(diagnostics_document("validate", diagnostics, files, True), EXIT_OK)
    return _diagnostics("validate", diagnostics, files)


def _validated(spec: Path, command: str, missing_code: int = EXIT_FAILED):  # type: ignore[no-untyped-def]
    """(validation, None) when ``spec`` validates, else (None, its diagnostics document)."""
    from generator.pipeline import validate_path

    result = validate_path(Path(spec))
    if result.ok:
        return result, None
    code = missing_code if not Path(spec).exists() else EXIT_FAILED
    return None, _diagnostics(command, result.diagnostics, result.files, code)


def _files(result, ir, out_dir: Path, command: str, allow_destructive: bool):  # type: ignore[no-untyped-def]
    """(files, None), or (None, the refused migration's diagnostics document)."""
    from generator.generate import render_with_history

    files, diagnostics = render_with_history(ir, out_dir, result.root, allow_destructive)
    if files is not None:
        return files, None
    return None, _diagnostics(command, diagnostics, result.files, EXIT_FAILED)


def check_document(spec: Path, out: Path | None = None) -> Document:
    """``keel check --format json SPEC [--out DIR]``: stale, missing and extra files (reads only)."""
    from generator.cli import _remember, _render, _unchanged
    from generator.writer import check

    args = SimpleNamespace(spec=Path(spec), out=out)
    key, _ = _unchanged(args)
    result, failed = _validated(spec, "check")
    if failed is not None:
        return failed
    ir, out_dir, _ = _render(result, out)
    files, refused = _files(result, ir, out_dir, "check", False)
    if refused is not None:
        return refused
    drift = check(out_dir, files)
    _remember(args, key, result, ir.package, files)
    doc = {"format": CHECK_FORMAT, "ok": drift.ok, "out": out_dir.as_posix(), "stale": list(drift.stale),
           "missing": list(drift.missing), "extra": list(drift.extra)}
    return Document(doc, EXIT_OK if drift.ok else EXIT_FAILED)


def _generated(out_dir: Path, created: Sequence[str] = (), updated: Sequence[str] = (),
               deleted: Sequence[str] = (), unchanged: int = 0) -> Document:
    return Document({"format": GENERATE_FORMAT, "ok": True, "out": Path(out_dir).as_posix(), "created": list(created),
                     "updated": list(updated), "deleted": list(deleted), "unchanged": unchanged}, EXIT_OK)


def generate_document(spec: Path, out: Path | None = None, force: bool = False,
                      allow_destructive: bool = False) -> Document:
    """``keel generate --format json SPEC [--out DIR]``: writes the files, reports what changed."""
    from generator.cli import _remember, _render, _unchanged
    from generator.writer import WriteRefused, apply, plan

    args = SimpleNamespace(spec=Path(spec), out=out)
    key = None
    if not force:
        key, unchanged = _unchanged(args)
        if unchanged is not None:
            return _generated(unchanged[0], unchanged=unchanged[1])
    result, failed = _validated(spec, "generate")
    if failed is not None:
        return failed
    ir, out_dir, spec_ref = _render(result, out)
    files, refused = _files(result, ir, out_dir, "generate", allow_destructive)
    if refused is not None:
        return refused
    failure: dict[str, Any] = {"format": GENERATE_FORMAT, "ok": False, "out": out_dir.as_posix()}
    try:
        changes = plan(out_dir, files, spec_ref)
        apply(out_dir, changes, files, spec_ref, force=force)
    except WriteRefused as exc:
        failure["error"] = (f"refusing to touch files in {out_dir.as_posix()} that Keel did not generate (or that "
                            "were edited by hand); move them away, or generate with force")
        failure["conflicts"] = [{"path": c.path, "reason": c.reason} for c in exc.conflicts]
        return Document(failure, EXIT_FAILED, True)
    except OSError as exc:
        failure["error"] = f"cannot write {out_dir.as_posix()}: {exc.strerror or exc}"
        return Document(failure, EXIT_USAGE, True)
    _remember(args, key, result, ir.package, files)
    return _generated(out_dir, changes.create, changes.update, changes.delete, len(changes.unchanged))


def _ir(spec: Path, command: str):  # type: ignore[no-untyped-def]
    """(the spec's IR, None), or (None, its diagnostics document: a missing spec is exit 2)."""
    from generator.ir import build_ir

    result, failed = _validated(spec, command, missing_code=EXIT_USAGE)
    if failed is not None:
        return None, failed
    return build_ir(result.spec, result.source_map, result.root), None


def explain_document(spec: Path, target: str | None = None) -> Document:
    """``keel explain --format json SPEC [TARGET]``."""
    from generator.explain import UnknownTarget, explain, select
    from generator.explain_render import FORMAT, explanation_document

    ir, failed = _ir(spec, "explain")
    if failed is not None:
        return failed
    explanation = explain(ir)
    if target:
        try:
            explanation = select(explanation, target)
        except UnknownTarget as exc:
            return usage_document(FORMAT, str(exc), exc.valid)
    return Document(explanation_document(explanation), EXIT_OK)


def diagram_document(spec: Path, kind: str = "all", entity: str | None = None) -> Document:
    """``keel diagram --format json SPEC [ENTITY] [--kind er|state|all]``."""
    from generator.diagrams import diagrams

    if kind not in ("er", "state", "all"):
        return usage_document(DIAGRAM_FORMAT, f"unknown diagram kind `{kind}`; kinds: er, state, all",
                              ("er", "state", "all"))
    ir, failed = _ir(spec, "diagram")
    if failed is not None:
        return failed
    names = tuple(e.name for e in ir.entities)
    if entity is not None and entity not in names:
        folded = next((n for n in names if n.lower() == entity.lower()), None)
        hint = f" (did you mean `{folded}`?)" if folded else ""
        return usage_document(DIAGRAM_FORMAT, f"no entity `{entity}` in `{ir.name}`{hint}; entities: "
                              f"{', '.join(names)}", names)
    chosen = diagrams(ir, None if kind == "all" else kind, entity)
    return Document({"format": DIAGRAM_FORMAT, "ok": True, "app": ir.name, "entity": entity,
                     "diagrams": [{"kind": d.kind, "name": d.name, "title": d.title, "mermaid": d.mermaid}
                                  for d in chosen]}, EXIT_OK)


def diff_document(specs: Sequence[str], against: str | None = None, allow: Sequence[str] = (),
                  allow_breaking: bool = False, allow_destructive: bool = False) -> Document:
    """``keel diff --format json OLD NEW`` or ``--against REV SPEC``, through ``run_diff`` itself."""
    from generator.diff.command import run_diff
    from generator.diff.render import FORMAT
    from generator.report import JSON_FORMAT

    args = SimpleNamespace(specs=[str(s) for s in specs], against=against, allow=list(allow),
                           allow_breaking=allow_breaking, allow_destructive=allow_destructive, format="json")
    outcome = run_diff(args, colour=False)
    if not outcome.out:  # a usage error (bad arguments, unknown revision): the CLI prints it on stderr
        return usage_document(FORMAT, outcome.err.removeprefix("keel: ").strip())
    doc = json.loads(outcome.out)
    return Document(doc, outcome.code, doc.get("format") == JSON_FORMAT)

