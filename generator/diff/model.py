"""The values ``keel diff`` works with: one version of a spec, a location, a change.

A ``Version`` is one validated spec, its IR and its source map, plus how to print
its file names: a spec read from a git revision lives in a temporary directory, but
is reported as ``REV:path/in/the/repo``. Locations are looked up from JSON pointers
of the typed spec (``generator.model``), so they carry line and column.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.diff.catalogue import RULES
from generator.ir.nodes import AppIR
from generator.loader.sourcemap import SourceMap
from generator.model.spec import Spec

__all__ = ["Change", "Location", "Version"]


@dataclass(frozen=True, slots=True)
class Location:
    file: str  # as the user knows it: a path (relative to the working directory when possible) or REV:path
    line: int
    column: int
    pointer: str  # JSON pointer of the spec node

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "pointer": self.pointer}


@dataclass(frozen=True)
class Version:
    """One side of a diff."""

    spec: Spec
    ir: AppIR
    source_map: SourceMap
    root: Path  # the spec directory as read (a temporary directory for a git revision)
    label: str  # what to call this version: the path given, or REV:path
    shown_root: str | None = None  # print files under ``root`` as under this (``REV:specs/x``) instead
    _cache: dict[str, Location | None] = field(default_factory=dict, compare=False, repr=False)

    def locate(self, pointer: str) -> Location | None:
        """Where the node at ``pointer`` (or its nearest ancestor) is written: its key when it has one."""
        if pointer in self._cache:
            return self._cache[pointer]
        span = self.source_map.key_span(pointer)
        found = None if span is None else Location(self.display(span.file), span.line, span.column, pointer)
        self._cache[pointer] = found
        return found

    def display(self, file: str) -> str:
        path = Path(file)
        if self.shown_root is not None:
            try:
                return f"{self.shown_root}/{path.resolve().relative_to(self.root.resolve()).as_posix()}"
            except ValueError:
                return file
        try:
            relative = os.path.relpath(path.resolve(), Path.cwd())
        except ValueError:  # another drive (Windows)
            return path.as_posix()
        return Path(relative).as_posix() if not relative.startswith("..") else path.as_posix()


@dataclass(frozen=True, slots=True)
class Change:
    rule: str  # a RULES id
    target: str  # what changed, as a dotted name: Task, Task.title, Task.start.guard, Task.permissions.update
    message: str
    old: Location | None
    new: Location | None
    category: str
    breaking: bool
    destructive: bool
    migration: bool
    review: bool
    details: tuple[tuple[str, Any], ...] = ()  # before/after values, for tools
    allowed_by: str | None = None  # "--allow-breaking", "--allow RULE", or "evolution.allow[2]"

    @property
    def blocking(self) -> bool:
        """Fails the command (exit 1) unless allowed."""
        return self.breaking or self.destructive or self.review

    @property
    def severity(self) -> str:
        if self.blocking and self.allowed_by is None:
            return "error"
        if self.blocking or self.category != "safe" or self.migration:
            return "warning"
        return "notice"

    def allowed(self, by: str) -> "Change":
        return replace(self, allowed_by=by)


def change(rule_id: str, target: str, message: str, old: Location | None, new: Location | None,
           **overrides: Any) -> Change:
    """A change with its rule's defaults; ``overrides`` refine one (``destructive=False`` for a widening)."""
    r = RULES[rule_id]
    details = overrides.pop("details", {})
    values = {"category": r.category, "breaking": r.breaking, "destructive": r.destructive,
              "migration": r.migration, "review": r.review}
    values.update(overrides)
    return Change(rule_id, target, message, old, new, details=tuple(details.items()), **values)
