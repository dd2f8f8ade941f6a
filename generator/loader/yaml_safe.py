"""Safe YAML loading: plain JSON-like data, a source map and diagnostics; never objects.

The bytes are checked first (size, UTF-8, invisible characters: ``textcheck``),
then PyYAML's parser events are turned into data by ``events.Builder``, which
bounds depth, alias expansion and node count as it goes. Nothing here raises for
malformed input: every problem becomes a diagnostic with a position.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from generator.diagnostics import Diagnostic, Span
from generator.loader.events import MAX_DEPTH, MAX_NODES, Builder, Stop
from generator.loader.sourcemap import SourceMap
from generator.loader.textcheck import MAX_BYTES, decode_source, too_large

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load_yaml_bytes", "load_yaml_file"]

_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def load_yaml_bytes(data: bytes, file: str, pointer_prefix: str = "") -> tuple[object | None, SourceMap, list[Diagnostic]]:
    """Parse one YAML document safely. ``file`` is the name shown in spans.

    Returns (value, source map, diagnostics). The value is None when an error
    makes the document unusable; the source map is keyed by JSON pointer, each
    starting with ``pointer_prefix``.
    """
    smap = SourceMap()
    text, diags = decode_source(data, file)
    if text is None:
        return None, smap, diags
    builder = Builder(text, file, pointer_prefix, smap)
    value = _run(builder)
    return value, smap, builder.diags


_SYNTAX_HINT = ("check the indentation, quotes and brackets at and just before this point; "
                "a value containing `: ` or starting with `{`, `[`, `*`, `&` or `!` must be quoted")


def load_yaml_file(path: Path, file: str, pointer_prefix: str = "") -> tuple[object | None, SourceMap, list[Diagnostic]]:
    """Like ``load_yaml_bytes`` for a file; its size is checked (stat) before a byte is read."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return None, SourceMap(), [Diagnostic("K115", f"cannot read {file}: not a regular file", None,
                                                  hint="pass a spec directory containing keel.yaml, or a .yaml file")]
        if info.st_size > MAX_BYTES:
            return None, SourceMap(), [too_large(info.st_size, file)]
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # the file may have grown since stat
    except OSError as exc:
        return None, SourceMap(), [Diagnostic("K115", f"cannot read {file}: {exc.strerror or exc}", None)]
    return load_yaml_bytes(data, file, pointer_prefix)


def _run(builder: Builder) -> object | None:
    loader = _LOADER(builder.text)
    handlers = builder.handlers
    try:
        while True:
            event = loader.get_event()
            if event is None or type(event) is yaml.StreamEndEvent:
                break
            handler = handlers.get(type(event))
            if handler is not None:
                handler(event)
    except Stop:
        return None
    except yaml.MarkedYAMLError as exc:
        _syntax_error(builder, exc)
        return None
    except yaml.YAMLError as exc:  # a reader error has no mark; textcheck rejects what causes one
        builder.report("K101", f"YAML error: {exc}", Span(builder.file, 1, 1), None, hint=_SYNTAX_HINT)
        return None
    finally:
        loader.dispose()
    return _finish(builder)


def _finish(builder: Builder) -> object | None:
    if builder.documents == 0 or builder.root_empty:
        builder.report("K110", "the file is empty (nothing but comments or blank lines)", Span(builder.file, 1, 1),
                       None, hint="a spec starts with `keel: 1`")
        return None
    root = builder.root
    if not isinstance(root, dict):
        if builder.usable:
            kind = "a sequence" if isinstance(root, list) else "a single value"
            builder.report("K111", f"the top level is {kind}; it must be a mapping of sections", builder.root_span,
                           None, hint="start with `keel: 1`, then sections such as `app:` and `entities:`")
        return None
    return root if builder.usable else None


def _syntax_error(builder: Builder, exc: yaml.MarkedYAMLError) -> None:
    mark = exc.problem_mark or exc.context_mark
    index = mark.index if mark is not None else 0
    problem = (exc.problem or "invalid YAML").strip()
    if exc.context:
        where = exc.context_mark
        context = exc.context + (f" started at line {where.line + 1}, column {where.column + 1}" if where else "")
        problem = f"{problem} ({context})"
    tab = _tab_near(builder.text, index)
    if tab is not None:
        builder.report("K114", f"tab character where YAML expects spaces: {problem}", builder.span(tab, tab + 1),
                       None, hint="indent with spaces")
    else:
        builder.report("K101", f"YAML syntax error: {problem}", builder.span(index, index + 1), None,
                       hint=_SYNTAX_HINT)


def _tab_near(text: str, index: int) -> int | None:
    """Offset of the tab behind a syntax error: at the error, or in the indentation of its line."""
    if index < len(text) and text[index] == "\t":
        return index
    i = max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1
    while i < len(text) and text[i] in " \t":
        if text[i] == "\t":
            return i
        i += 1
    return None
