"""Turn diagnostics into text: for people (rustc style), for tools (JSON) and for GitHub Actions.

The JSON document is versioned (``"format": "keel.diagnostics/1"``) and
documented in docs/diagnostics.md; fields are only ever added within a version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from generator import __version__
from generator.codes import CODES
from generator.diagnostics import Diagnostic, Span

JSON_FORMAT = "keel.diagnostics/1"
_MAX_SHOWN_FILE = 2 * 1024 * 1024  # never read a huge file just to quote one line


def summary_counts(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    diags = list(diagnostics)
    errors = sum(1 for d in diags if d.is_error)
    return errors, len(diags) - errors


# --- JSON ---------------------------------------------------------------------

def _span_json(span: Span | None) -> dict:
    if span is None:
        return {"file": None, "line": None, "column": None, "end_line": None, "end_column": None}
    return {"file": span.file, "line": span.line, "column": span.column,
            "end_line": span.end_line, "end_column": span.end_column}


def diagnostic_json(d: Diagnostic) -> dict:
    return {
        "code": d.code,
        "severity": d.severity.value,
        "title": CODES[d.code].title,
        "message": d.message,
        **_span_json(d.span),
        "pointer": d.pointer,
        "hint": d.hint,
        "related": [{"message": r.message, **_span_json(r.span)} for r in d.related],
    }


def render_json(command: str, diagnostics: Iterable[Diagnostic], files: Iterable[str], ok: bool,
                extra: dict | None = None) -> str:
    return json.dumps(diagnostics_document(command, diagnostics, files, ok, extra), indent=2, ensure_ascii=False)


def diagnostics_document(command: str, diagnostics: Iterable[Diagnostic], files: Iterable[str], ok: bool,
                         extra: dict | None = None) -> dict:
    """The ``keel.diagnostics/1`` document as a dict (``render_json`` prints it; ``keel mcp`` returns it)."""
    diags = list(diagnostics)
    errors, warnings = summary_counts(diags)
    doc = {
        "format": JSON_FORMAT,
        "tool": {"name": "keel", "version": __version__},
        "command": command,
        "ok": ok,
        "files": list(files),
        "summary": {"errors": errors, "warnings": warnings},
        "diagnostics": [diagnostic_json(d) for d in diags],
    }
    if extra:
        doc.update(extra)
    return doc


# --- GitHub Actions -------------------------------------------------------------

def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(diagnostics: Iterable[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        level = "error" if d.is_error else "warning"
        props = [f"title={_gh_escape(d.code + ' ' + CODES[d.code].title, True)}"]
        if d.span is not None:
            props = [f"file={_gh_escape(d.span.file, True)}", f"line={d.span.line}", f"col={d.span.column}"] + props
            if d.span.end_column is not None:
                props.insert(3, f"endColumn={max(d.span.end_column - 1, d.span.column)}")
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        lines.append(f"::{level} {','.join(props)}::{_gh_escape(message)}")
    return "\n".join(lines)


# --- human --------------------------------------------------------------------

class _Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text


class _SourceLines:
    """Reads each file once, and only if it is small enough to quote."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str] | None] = {}

    def line(self, file: str, number: int) -> str | None:
        if file not in self._cache:
            self._cache[file] = self._read(file)
        lines = self._cache[file]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]

    @staticmethod
    def _read(file: str) -> list[str] | None:
        try:
            path = Path(file)
            if path.stat().st_size > _MAX_SHOWN_FILE:
                return None
            text = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
        except OSError:
            return None
        return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _visible(line: str) -> str:
    """Show control, bidi and zero-width characters as escapes so a terminal cannot be tricked."""
    out = []
    for ch in line:
        if ch == "\t":
            out.append("    ")
        elif ch.isprintable() and not (0x200B <= ord(ch) <= 0x200F or 0x202A <= ord(ch) <= 0x202E
                                       or 0x2066 <= ord(ch) <= 0x2069 or ord(ch) in (0x2060, 0xFEFF, 0x061C)):
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def render_human(diagnostics: Iterable[Diagnostic], colour: bool = False) -> str:
    style = _Style(colour)
    sources = _SourceLines()
    blocks = []
    for d in diagnostics:
        level = style("error", "1;31") if d.is_error else style("warning", "1;33")
        where = f"{d.span.file}:{d.span.line}:{d.span.column}: " if d.span else ""
        out = [f"{style(where, '1')}{level}{style(f'[{d.code}]', '1')} {_visible(d.message)}"]
        if d.span is not None:
            text = sources.line(d.span.file, d.span.line)
            if text is not None:
                gutter = str(d.span.line)
                pad = " " * len(gutter)
                width = 1
                if d.span.end_column is not None and (d.span.end_line in (None, d.span.line)):
                    width = max(1, d.span.end_column - d.span.column)
                prefix = _visible(text[: d.span.column - 1])
                out.append(f" {style(gutter, '1;34')} {style('|', '1;34')} {_visible(text)}")
                caret = style("^" * min(width, max(1, len(text) - d.span.column + 1)), "1;31" if d.is_error else "1;33")
                out.append(f" {pad} {style('|', '1;34')} {' ' * len(prefix)}{caret}")
        if d.hint:
            out.append(f"   = hint: {_visible(d.hint)}")
        for r in d.related:
            at = f"{r.span.file}:{r.span.line}:{r.span.column}: " if r.span else ""
            out.append(f"   = note: {at}{_visible(r.message)}")
        blocks.append("\n".join(out))
    return "\n\n".join(blocks)


def render_summary(diagnostics: Iterable[Diagnostic], what: str) -> str:
    errors, warnings = summary_counts(diagnostics)
    if errors:
        return f"{what}: {errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    return f"{what}: ok ({warnings} warning{'s' * (warnings != 1)})"
