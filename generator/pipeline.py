"""The validation pipeline: load -> JSON Schema -> typed model -> semantic checks.

Each stage returns its output and diagnostics; a stage runs only when the one
before produced something usable (semantic checks need a schema-valid
document). Nothing here prints or exits: that is the CLI's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.diagnostics import Diagnostic, has_errors, sort_key
from generator.loader import load_spec
from generator.loader.sourcemap import SourceMap
from generator.model.spec import Spec

__all__ = ["Validation", "validate_path"]


@dataclass(frozen=True)
class Validation:
    spec: Spec | None  # None unless the spec reached the model stage
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]
    source_map: SourceMap
    root: Path | None = None  # the spec directory

    @property
    def ok(self) -> bool:
        return self.spec is not None and not has_errors(self.diagnostics)


def validate_path(path: Path) -> Validation:
    from generator.checks import run_checks
    from generator.checks.extensions import extension_diagnostics
    from generator.model import build_spec
    from generator.schema import validate_document

    loaded = load_spec(path)
    diagnostics: list[Diagnostic] = list(loaded.diagnostics)
    spec = None
    if loaded.document is not None and not has_errors(diagnostics):
        schema_problems = validate_document(loaded.document, loaded.source_map)
        diagnostics += schema_problems
        if not schema_problems:
            spec = build_spec(loaded.document)
            diagnostics += run_checks(spec, loaded.source_map)
            diagnostics += extension_diagnostics(spec, loaded.source_map, loaded.root)  # user modules, by ast
    ordered = tuple(sorted(_dedupe(diagnostics), key=sort_key))
    return Validation(spec, ordered, loaded.files, loaded.source_map, loaded.root)


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: dict[tuple, Diagnostic] = {}
    for d in diagnostics:
        key = (d.code, d.span, d.message)
        seen.setdefault(key, d)
    return list(seen.values())
