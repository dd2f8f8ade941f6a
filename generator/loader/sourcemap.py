"""Where each value of a loaded spec came from.

The loader produces plain JSON-like data (dict/list/str/int/float/bool/None) plus a
``SourceMap`` keyed by RFC 6901 JSON pointer ("" is the document root,
"/entities/Task/fields/title" a member). Later stages only ever hold pointers, so
they stay independent of YAML; the map turns a pointer back into file:line:col.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.diagnostics import Span


@dataclass(frozen=True, slots=True)
class NodeInfo:
    """Source facts about one node.

    ``value`` spans the node itself; ``key`` spans its key when the node is a
    mapping member. For scalars, ``style`` is the YAML style (None for plain,
    "'" or '"' for quoted, "|" or ">" for block) and ``text`` the scalar exactly
    as written, so a diagnostic can quote ``1.10`` rather than the float 1.1.
    ``source`` is the raw text between the span's ends when it is not simply
    ``text`` (escapes, folded lines, block scalars); ``expression_span`` uses it
    to map character offsets in ``text`` back to lines and columns.
    """

    value: Span
    key: Span | None = None
    style: str | None = None
    text: str | None = None
    source: str | None = None  # the scalar's source text, kept only when ``text`` differs from it


def escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, *tokens: str | int) -> str:
    return base + "".join("/" + escape_pointer_token(t) for t in tokens)


def parent_pointer(pointer: str) -> str:
    return pointer.rsplit("/", 1)[0] if pointer else ""


@dataclass
class SourceMap:
    nodes: dict[str, NodeInfo] = field(default_factory=dict)

    def info(self, pointer: str) -> NodeInfo | None:
        return self.nodes.get(pointer)

    def nearest(self, pointer: str) -> NodeInfo | None:
        """The node at ``pointer`` or, if absent, its closest ancestor."""
        while True:
            found = self.nodes.get(pointer)
            if found is not None or pointer == "":
                return found
            pointer = parent_pointer(pointer)

    def value_span(self, pointer: str) -> Span | None:
        found = self.nearest(pointer)
        return found.value if found else None

    def key_span(self, pointer: str) -> Span | None:
        """The key's span for a mapping member, else the value's span."""
        found = self.nodes.get(pointer)
        if found is not None and found.key is not None:
            return found.key
        return self.value_span(pointer)

    def expression_span(self, pointer: str, start: int, end: int) -> Span | None:
        """Span of characters ``start:end`` of the scalar text at ``pointer``.

        Exact for plain, quoted and block scalars, including escapes and folded
        lines, when the loader kept the scalar's source; falls back to the whole
        value when the offsets cannot be mapped.
        """
        found = self.nodes.get(pointer)
        if found is None:
            return self.value_span(pointer)
        span, text = found.value, found.text
        if text is None:
            return span
        start = max(0, min(start, len(text)))
        end = max(start + 1, min(end, len(text)))
        if found.source is None:
            if found.style in (None, "'", '"') and span.end_line in (None, span.line):
                offset = 0 if found.style is None else 1
                return Span(span.file, span.line, span.column + offset + start, span.line, span.column + offset + end)
            return span
        offsets = _align(found.source, text, found.style)
        if offsets is None or start >= len(text):
            return span
        first = offsets[start][0]
        last = max(first + 1, offsets[min(end, len(text)) - 1][1])
        line, col = _position(found.source, first, span)
        end_line, end_col = _position(found.source, last, span)
        return Span(span.file, line, col, end_line, end_col)

    def merge(self, other: "SourceMap") -> None:
        self.nodes.update(other.nodes)


def _align(source: str, text: str, style: str | None) -> list[tuple[int, int]] | None:
    """For each character of ``text``, the ``source`` offsets (start, stop) it was read from.

    Walks both strings together: source characters that produce nothing in
    ``text`` (quotes, block header, indentation, folded line breaks) are
    skipped, and an escape (``\\n``, ``''``) maps to all of its characters.
    Characters the trimmed source no longer holds (a block scalar's final line
    break) map to its end. None when the two do not line up.
    """
    if style in ("|", ">"):
        breaks = [i for i in (source.find("\n"), source.find("\r")) if i >= 0]
        if not breaks:
            return None
        pos = min(breaks) + 1
    else:
        pos = 1 if style in ("'", '"') else 0
    out: list[tuple[int, int]] = []
    size = len(source)
    for ch in text:
        while pos < size:
            here = source[pos]
            if style == '"' and here == "\\":
                if source[pos + 1 : pos + 2] in ("\n", "\r"):  # escaped line break: produces nothing
                    pos += 2
                    continue
                break
            if here == ch or (here in "\r\n" and ch in " \n"):  # a folded line break reads as a space
                break
            pos += 1
        if pos >= size:
            if not ch.isspace():
                return None
            out.append((size, size))
            continue
        begin = pos
        if style == '"' and source[pos] == "\\":
            pos += {"x": 4, "u": 6, "U": 10}.get(source[pos + 1 : pos + 2], 2)
        elif style == "'" and ch == "'" and source.startswith("''", pos):
            pos += 2
        else:
            pos += 1
        out.append((begin, pos))
    return out


def _position(source: str, offset: int, span: Span) -> tuple[int, int]:
    """Line and column of ``source[offset]`` given that ``source`` starts at ``span``."""
    before = source[:offset]
    breaks = before.count("\n") + before.count("\r") - before.count("\r\n")
    if breaks == 0:
        return span.line, span.column + offset
    last = max(before.rfind("\n"), before.rfind("\r"))
    return span.line + breaks, offset - last
