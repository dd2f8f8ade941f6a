"""Bytes to text, before any YAML parsing: encoding, size and invisible characters.

These checks run first because a YAML parser either rejects such input with a
confusing message (NUL bytes, C0 controls) or, worse, accepts it silently
(bidi overrides and zero-width characters make a spec read differently from
what it does: "Trojan Source"). Line breaks are LF, CR and CRLF only; NEL,
LS and PS are rejected here, so every later position agrees with editors.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from itertools import islice

from generator.diagnostics import Diagnostic, Span

__all__ = ["MAX_BYTES", "LineIndex", "decode_source", "too_large"]

MAX_BYTES = 2 * 1024 * 1024
_MAX_REPORTED = 20  # a file full of NULs gets this many diagnostics, not millions
_BOM = b"\xef\xbb\xbf"
_BREAK = re.compile(r"\r\n|\r|\n")
# C0 except tab/LF/CR, DEL, C1 (incl. NEL), Arabic letter mark, zero-width and
# direction marks, LS/PS, bidi embeddings/overrides/isolates, word joiner, BOM,
# and the two non-characters PyYAML's reader refuses anyway.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
    "\u2060\u2066-\u2069\ufeff\ufffe\uffff]"
)
_C0_NAMES = {0x00: "NULL", 0x1B: "ESCAPE", 0x7F: "DELETE", 0x85: "NEXT LINE"}
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A)) | {0x200E, 0x200F, 0x061C}


class LineIndex:
    """Character offset -> 1-based (line, column), using YAML's line breaks."""

    __slots__ = ("starts",)

    def __init__(self, text: str) -> None:
        self.starts = [0]
        self.starts.extend(m.end() for m in _BREAK.finditer(text))

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1


def too_large(size: int, file: str) -> Diagnostic:
    return Diagnostic(
        "K105",
        f"file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes (2 MiB)",
        Span(file, 1, 1),
        hint="split the spec with include: patterns, or remove generated content",
    )


def _char_name(ch: str) -> str:
    cp = ord(ch)
    name = _C0_NAMES.get(cp) or unicodedata.name(ch, "") or "control character"
    return f"U+{cp:04X} {name}"


def _forbidden(ch: str) -> tuple[str, str]:
    """Message and hint for one forbidden character."""
    cp = ord(ch)
    what = _char_name(ch)
    if cp in _BIDI:
        return (
            f"bidirectional control character {what} is not allowed",
            "remove it: it can make the spec display differently from what it does",
        )
    if cp < 0x20 or 0x7F <= cp <= 0x9F:
        return f"control character {what} is not allowed", "remove it (is this a binary file?)"
    return f"invisible character {what} is not allowed", "remove it: it is invisible in most editors"


def decode_source(data: bytes, file: str) -> tuple[str | None, list[Diagnostic]]:
    """UTF-8 text of ``data`` without BOM, or None and the diagnostics saying why."""
    if len(data) > MAX_BYTES:
        return None, [too_large(len(data), file)]
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        line, col = LineIndex(good).position(len(good))
        bad = data[exc.start]
        return None, [
            Diagnostic(
                "K107",
                f"byte 0x{bad:02X} is not valid UTF-8 ({exc.reason})",
                Span(file, line, col, line, col + 1),
                hint="save the file as UTF-8",
            )
        ]
    found = _FORBIDDEN.search(text)
    if found is None:
        return text, []
    index = LineIndex(text)
    diags: list[Diagnostic] = []
    matches = list(islice(_FORBIDDEN.finditer(text, found.start()), _MAX_REPORTED + 1))
    for n, match in enumerate(matches[:_MAX_REPORTED], 1):
        line, col = index.position(match.start())
        message, hint = _forbidden(match.group())
        if n == _MAX_REPORTED and len(matches) > _MAX_REPORTED:
            message += " (further forbidden characters in this file are not reported)"
        diags.append(Diagnostic("K108", message, Span(file, line, col, line, col + 1), hint=hint))
    return None, diags
