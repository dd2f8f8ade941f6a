"""A spec on disk: the main ``keel.yaml`` plus the entity files it includes.

Includes exist so large specs can keep one entity per file. They are kept
deliberately narrow: patterns stay inside the spec directory (no ``..``, no
absolute paths, no symlinks out), and an included file may only add entities,
so the main file alone says what the app is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from generator.diagnostics import Diagnostic, Related, Span
from generator.loader.sourcemap import SourceMap, escape_pointer_token, join_pointer
from generator.loader.yaml_safe import load_yaml_file

__all__ = ["LoadedSpec", "display_name", "load_spec"]

MAIN_FILE = "keel.yaml"


@dataclass(frozen=True)
class LoadedSpec:
    """The merged spec document (None when unusable) and everything known about its files."""

    document: dict | None
    source_map: SourceMap
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]
    root: Path


def display_name(path: Path) -> str:
    """``path`` relative to the working directory when it is below it, else absolute; always with /."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):
        return absolute.as_posix()


def _cannot_read(message: str) -> Diagnostic:
    return Diagnostic("K115", message, None, hint="pass a spec directory containing keel.yaml, or a .yaml file")


def _locate(path: Path) -> tuple[Path | None, Diagnostic | None]:
    """The main spec file for ``path`` (a directory or a .yaml/.yml file)."""
    shown = display_name(path)
    try:
        if path.is_dir():
            main = path / MAIN_FILE
            if main.is_file():
                return main, None
            return None, _cannot_read(f"directory {shown} has no {MAIN_FILE} (tried {display_name(main)})")
        if path.is_file():
            if path.suffix.lower() in (".yaml", ".yml"):
                return path, None
            return None, _cannot_read(f"{shown} is not a .yaml or .yml file")
    except OSError as exc:
        return None, _cannot_read(f"cannot access {shown}: {exc.strerror or exc}")
    return None, _cannot_read(f"{shown} does not exist (expected a spec directory or a .yaml file)")


def load_spec(path: Path) -> LoadedSpec:
    """Load the spec at ``path`` with its includes. Never raises for a bad spec."""
    path = Path(path)
    main, problem = _locate(path)
    root = Path(os.path.abspath(main.parent if main is not None else path))
    if main is None:
        return LoadedSpec(None, SourceMap(), (problem,), (), root)
    name = display_name(main)
    document, smap, diags = load_yaml_file(main, name)
    files = [name]
    if isinstance(document, dict) and isinstance(document.get("include"), list):
        _Includes(document, smap, diags, files, main).load_all()
    doc = document if isinstance(document, dict) else None
    return LoadedSpec(doc, smap, tuple(diags), tuple(files), root)


def _escapes(pattern: str) -> str | None:
    """Why ``pattern`` may reach outside the spec directory, or None when it stays inside."""
    if not pattern.strip():
        return "is empty"
    if pattern.startswith(("/", "\\", "~")) or PurePosixPath(pattern).is_absolute() or PureWindowsPath(pattern).drive:
        return "is an absolute path"
    if ".." in re.split(r"[\\/]", pattern):
        return "contains .."
    return None


class _Includes:
    """Loads the include patterns of one main document and merges their entities."""

    def __init__(self, document: dict, smap: SourceMap, diags: list[Diagnostic], files: list[str], main: Path):
        self.document = document
        self.smap = smap
        self.diags = diags
        self.files = files
        self.base = main.parent
        self.seen = {main.resolve()}
        self.entities: dict | None = None  # the merged entities mapping, created on first use
        self.origins: dict[str, Span | None] = {}  # entity name -> where it was first defined
        self.can_merge = True

    def load_all(self) -> None:
        main_entities = self.document.get("entities")
        # When the main file's entities are not a mapping the schema check reports it;
        # included files are still checked, but there is nothing to merge them into.
        self.can_merge = main_entities is None or isinstance(main_entities, dict)
        for name in main_entities if isinstance(main_entities, dict) else ():
            self.origins[name] = self.smap.key_span(join_pointer("/entities", name))
        for index, pattern in enumerate(self.document["include"]):
            if isinstance(pattern, str):  # other types are reported by the schema check
                self.load_pattern(pattern, join_pointer("/include", index))

    def load_pattern(self, pattern: str, pointer: str) -> None:
        span = self.smap.value_span(pointer)
        why = _escapes(pattern)
        paths: list[Path] = []
        if why is None:
            try:
                paths = sorted((p for p in self.base.glob(pattern) if p.is_file()), key=lambda p: p.as_posix())
            except (ValueError, NotImplementedError, OSError) as exc:
                why = f"is not a valid pattern ({exc})"
        if why is not None:
            self.diags.append(Diagnostic("K116", f"include pattern {pattern!r} {why}", span, pointer,
                                         hint="use a path relative to the spec directory, like entities/*.yaml"))
            return
        if not paths:
            self.diags.append(Diagnostic("K912", f"include pattern {pattern!r} matched no file", span, pointer,
                                         hint="check the pattern; it is relative to the directory of the main file"))
            return
        inside = self.base.resolve()
        for path in paths:
            real = path.resolve()
            if not real.is_relative_to(inside):
                self.diags.append(Diagnostic(
                    "K116", f"include pattern {pattern!r} matches {display_name(path)}, which links outside the "
                    "spec directory", span, pointer, hint="copy the file into the spec directory"))
            elif real not in self.seen:
                self.seen.add(real)
                self.load_file(path)

    def load_file(self, path: Path) -> None:
        name = display_name(path)
        self.files.append(name)
        data, smap, diags = load_yaml_file(path, name)
        self.diags.extend(diags)
        if not isinstance(data, dict):
            return
        for key in data:
            if key not in ("entities", "scenarios"):
                self.diags.append(Diagnostic(
                    "K117", f"an included file may only declare entities and scenarios, not {key!r}",
                    smap.key_span(join_pointer("", key)), join_pointer("", key),
                    hint=f"move {key!r} to the main spec file"))
        if isinstance(data.get("scenarios"), dict):  # other types: the schema check reports them
            self.merge_scenarios(data["scenarios"], smap)
        entities = data.get("entities")
        if entities is None:
            return
        if not isinstance(entities, dict):
            self.diags.append(Diagnostic(
                "K117", "entities in an included file must be a mapping from entity name to definition",
                smap.value_span("/entities"), "/entities", hint="write `entities:` followed by `  Name:` lines"))
            return
        if self.can_merge:
            self.merge(entities, smap)

    def merge_scenarios(self, scenarios: dict, smap: SourceMap) -> None:
        """Add an included file's scenarios to the main document's (a name is defined once: K567)."""
        main = self.document.get("scenarios")
        if main is not None and not isinstance(main, dict):
            return  # the schema check reports the main file's scenarios
        merged = dict(main or {})  # never mutate a shared (aliased) mapping
        self.document["scenarios"] = merged
        if "/scenarios" not in self.smap.nodes and "/scenarios" in smap.nodes:
            self.smap.nodes["/scenarios"] = smap.nodes["/scenarios"]
        accepted = set()
        for name, body in scenarios.items():
            pointer = join_pointer("/scenarios", name)
            if name in merged:
                self.diags.append(Diagnostic(
                    "K570", f"scenario {name!r} is already defined in another file", smap.key_span(pointer), pointer,
                    related=(Related(f"{name!r} first defined here", self.smap.key_span(pointer)),),
                    hint="rename one of them: a scenario name is the name of its test"))
                continue
            merged[name] = body
            accepted.add(escape_pointer_token(name))
        for pointer, info in smap.nodes.items():
            parts = pointer.split("/", 3)
            if len(parts) >= 3 and parts[1] == "scenarios" and parts[2] in accepted:
                self.smap.nodes[pointer] = info

    def merge(self, entities: dict, smap: SourceMap) -> None:
        if self.entities is None:
            self.entities = dict(self.document.get("entities") or {})  # never mutate a shared (aliased) mapping
            self.document["entities"] = self.entities
            if "/entities" not in self.smap.nodes and "/entities" in smap.nodes:
                self.smap.nodes["/entities"] = smap.nodes["/entities"]
        accepted = set()
        for name, body in entities.items():
            pointer = join_pointer("/entities", name)
            here = smap.key_span(pointer)
            if name in self.origins:
                first = self.origins[name]
                self.diags.append(Diagnostic(
                    "K307", f"entity {name!r} is already defined in another file", here, pointer,
                    related=(Related(f"{name!r} first defined here", first),),
                    hint="keep one definition and remove the other"))
                continue
            self.origins[name] = here
            self.entities[name] = body
            accepted.add(escape_pointer_token(name))
        for pointer, info in smap.nodes.items():
            parts = pointer.split("/", 3)
            if len(parts) >= 3 and parts[1] == "entities" and parts[2] in accepted:
                self.smap.nodes[pointer] = info
