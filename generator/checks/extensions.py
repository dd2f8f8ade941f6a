"""Extensions and hooks: the user modules beside the spec, checked statically.

``keel validate`` never imports or runs user code: each declared module is read and
parsed with ``ast``, and every ``module.name`` the spec uses must be bound at the
module's top level. A hook defined with ``def``/``async def`` must take exactly one
positional parameter (the hook context); one bound some other way (an assignment, an
import) cannot be checked without running it, so the generated app checks it again at
start-up (docs/extensions.md).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.checks.context import CheckContext
from generator.diagnostics import Diagnostic
from generator.loader.sourcemap import SourceMap
from generator.model.spec import Entity, HookRef, Spec

__all__ = ["HOOK_POINTS", "HOOK_SIGNATURE", "check_extensions", "extension_diagnostics"]

# Entity hook point -> the CRUD operation it belongs to.
HOOK_POINTS = {"before_create": "create", "after_create": "create", "before_update": "update",
               "after_update": "update", "before_delete": "delete"}
HOOK_SIGNATURE = "def {name}(ctx: HookContext) -> None  (or async def)"
MAX_MODULE_BYTES = 1_000_000


@dataclass(frozen=True)
class _Module:
    path: Path
    names: dict[str, ast.AST]  # top-level bindings: name -> the statement that binds it


def extension_diagnostics(spec: Spec, source_map: SourceMap, root: Path | None) -> list[Diagnostic]:
    """The pipeline's entry point: a spec without hooks or extensions costs nothing here."""
    if spec.extensions is None and not any(e.hooks for e in spec.entities) and not any(
            c.hook for e in spec.entities
            for c in list(e.actions) + list(e.workflow.transitions if e.workflow else ())):
        return []
    ctx = CheckContext(spec, source_map)
    check_extensions(ctx, root)
    return ctx.diagnostics


def check_extensions(ctx: CheckContext, root: Path | None) -> None:
    spec = ctx.spec
    modules = _modules(ctx, spec, root)
    declared = {name for name, _, _ in spec.extensions.modules} if spec.extensions else set()
    for ref in (spec.extensions.routers + spec.extensions.middleware) if spec.extensions else ():
        _resolve(ctx, ref, declared, modules, function=False)
    for entity in spec.entities:
        for point, ref in entity.hooks:
            _check_point(ctx, entity, point, ref)
            _resolve(ctx, ref, declared, modules, function=True)
        commands = list(entity.actions) + list(entity.workflow.transitions if entity.workflow else ())
        for command in commands:
            if command.hook is not None:
                _resolve(ctx, command.hook, declared, modules, function=True)


def _modules(ctx: CheckContext, spec: Spec, root: Path | None) -> dict[str, _Module | None]:
    """Each declared module parsed; None where it cannot be (already reported)."""
    out: dict[str, _Module | None] = {}
    if spec.extensions is None:
        return out
    for name, file, pointer in spec.extensions.modules:
        out[name] = None
        relative = PurePosixPath(file)
        if "\\" in file or relative.is_absolute() or ".." in relative.parts or file.startswith("~"):
            ctx.report("K556", f"extension module `{name}` must be a relative path inside the spec directory, "
                       f"not {file!r}", pointer, hint=f"put the module beside the spec, e.g. `{name}: {name}.py`")
            continue
        if root is None:
            continue
        path = root / relative
        if not path.is_file():
            ctx.report("K550", f"extension module `{name}`: no file {file!r} beside the spec", pointer,
                       hint=f"create {file} in the spec directory, or fix the path")
            continue
        try:
            data = path.read_bytes()
            if len(data) > MAX_MODULE_BYTES:
                raise OSError("file too large")
            tree = ast.parse(data, filename=file)
        except SyntaxError as exc:
            where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
            ctx.report("K551", f"extension module `{name}` ({file}) is not valid Python: {exc.msg} ({where})",
                       pointer, hint="fix the module; `python -m py_compile " + file + "` shows the same error")
            continue
        except (OSError, ValueError) as exc:
            ctx.report("K550", f"extension module `{name}`: cannot read {file!r} ({exc})", pointer,
                       hint="make the file readable UTF-8 Python source")
            continue
        out[name] = _Module(path, _top_level(tree))
    return out


def _top_level(tree: ast.Module) -> dict[str, ast.AST]:
    """Names bound by the module's own top-level statements (including inside top-level if/try)."""
    names: dict[str, ast.AST] = {}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names[node.name] = node
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for sub in ast.walk(target):
                        if isinstance(sub, ast.Name):
                            names[sub.id] = node
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names[(alias.asname or alias.name).split(".")[0]] = node
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return names


def _check_point(ctx: CheckContext, entity: Entity, point: str, ref: HookRef) -> None:
    operation = HOOK_POINTS[point]
    if operation not in entity.operations:
        ctx.report("K555", f"`{point}` hook on `{entity.name}`, which has no `{operation}` operation",
                   ref.pointer, at_key=True,
                   hint=f"add `{operation}` to `operations:`, or remove the hook")


def _resolve(ctx: CheckContext, ref: HookRef, declared: set[str], modules: dict[str, _Module | None],
             function: bool) -> None:
    if ref.module not in declared:
        ctx.unknown("K552", "extension module", _ModuleName(ref), declared,
                    "(declare it under `extensions: modules:`)")
        return
    module = modules.get(ref.module)
    if module is None:
        return  # its file is missing or broken: reported once, at the module
    node = module.names.get(ref.name)
    if node is None:
        functions = [n for n, b in module.names.items()
                     if not function or isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef))]
        expected = HOOK_SIGNATURE.format(name=ref.name) if function else f"{ref.name} = ..."
        close = _close(ref.name, functions)
        hint = (f"did you mean `{ref.module}.{close}`?" if close
                else f"define it in {module.path.name}: {expected}")
        ctx.report("K553", f"`{ref.text}`: {module.path.name} defines no `{ref.name}`", ref.pointer, hint=hint)
        return
    if function and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        problem = _signature_problem(node)
        if problem is not None:
            ctx.report("K554", f"hook `{ref.text}` ({module.path.name}:{node.lineno}) {problem}", ref.pointer,
                       hint=f"a hook takes the hook context only: {HOOK_SIGNATURE.format(name=ref.name)}")
    elif function and isinstance(node, ast.ClassDef):
        ctx.report("K554", f"hook `{ref.text}` ({module.path.name}:{node.lineno}) is a class, not a function",
                   ref.pointer, hint=f"a hook is a function: {HOOK_SIGNATURE.format(name=ref.name)}")


def _signature_problem(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    a = node.args
    positional = a.posonlyargs + a.args
    required_kw = [k.arg for k, d in zip(a.kwonlyargs, a.kw_defaults) if d is None]
    if a.vararg is not None or a.kwarg is not None:
        return "takes *args or **kwargs"
    if required_kw:
        return f"has required keyword-only parameters ({', '.join(required_kw)})"
    required = len(positional) - len(a.defaults)
    if len(positional) == 0:
        return "takes no parameter"
    if required > 1 or (required == 0 and len(positional) > 1):
        names = ", ".join(p.arg for p in positional)
        return f"takes {len(positional)} parameters ({names})"
    if required == 0:
        return f"gives its parameter `{positional[0].arg}` a default"
    return None


def _close(name: str, options: list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return found[0] if found else None


@dataclass(frozen=True)
class _ModuleName:
    """A NameRef-like view of a hook's module part, for ``CheckContext.unknown``."""

    ref: HookRef

    @property
    def name(self) -> str:
        return self.ref.module

    @property
    def pointer(self) -> str:
        return self.ref.pointer
