"""Plain data and a source map from PyYAML's event stream, with an explicit stack.

``yaml.load``/``yaml.compose`` recurse once per nesting level and construct
whatever a tag asks for. Consuming parser events with our own stack keeps depth,
alias expansion and node count bounded and checked *while reading*, so hostile
input is reported in milliseconds rather than exhausting the stack or memory.
Aliases share the anchored value by reference; they are never copied.
"""

from __future__ import annotations

import math

import yaml

from generator.diagnostics import Diagnostic, Related, Span
from generator.loader.scalars import CORE_TAGS, MISMATCH, TAG_PREFIX, resolve_plain, resolve_tagged, yaml11_note
from generator.loader.sourcemap import NodeInfo, SourceMap, escape_pointer_token
from generator.loader.textcheck import LineIndex

__all__ = ["MAX_DEPTH", "MAX_NODES", "Builder", "Stop"]

MAX_DEPTH = 64  # nested collections
MAX_NODES = 100_000  # nodes after alias expansion
_STYLES = {"": None, None: None, "'": "'", '"': '"', "|": "|", ">": ">"}
_SPACE = " \t\r\n"
_TAG_END = _SPACE + ",[]{}"
_NOTE_FIRST = frozenset("0123456789+-.yYnNoO")  # first characters of scalars YAML 1.1 may read differently
_KIND_WORDS = {"scalar": "single value", "map": "mapping", "seq": "sequence"}
_TYPE_WORDS = {dict: "a mapping", list: "a sequence", bool: "a boolean", int: "a number", float: "a number"}
_NO_KEY = object()  # mapping frame: a key comes next
_BAD_KEY = object()  # mapping frame: the pending key was rejected, drop its value


class Stop(Exception):
    """Abandon the document (a limit was hit, or a second document starts)."""


def _child(base: str, token: str | int) -> str:
    if type(token) is str and ("~" in token or "/" in token):
        token = escape_pointer_token(token)
    return f"{base}/{token}"


class _Frame:
    """An open mapping or sequence."""

    __slots__ = ("value", "is_map", "pointer", "start", "start_count", "anchor", "flow", "height", "last", "key",
                 "key_span", "keys")

    def __init__(self, value, pointer, start, start_count, anchor, flow):
        self.value = value
        self.is_map = type(value) is dict
        self.pointer = pointer  # None: not part of the document (a key, or under a rejected key)
        self.start = start  # Span of the opening position
        self.start_count = start_count
        self.anchor = anchor
        self.flow = flow
        self.height = 1
        self.last = start  # Span of the last finished child, for the end of block collections
        self.key = _NO_KEY
        self.key_span: Span | None = None
        self.keys: dict[str, Span] = {}


class Builder:
    """Consumes events of one YAML stream; ``diags`` collects what was wrong."""

    def __init__(self, text: str, file: str, prefix: str, smap: SourceMap) -> None:
        self.text, self.file, self.prefix, self.smap = text, file, prefix, smap
        self._lines: LineIndex | None = None
        self.diags: list[Diagnostic] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[object, int, int]] = {}  # name -> (value, weight, height)
        self.open_anchors: set[str] = set()
        self.count = 0
        self.documents = 0
        self.root: object = None
        self.root_span: Span | None = None
        self.root_empty = False
        self.usable = True
        self.handlers = {
            yaml.ScalarEvent: self.on_scalar,
            yaml.MappingStartEvent: self.on_collection_start,
            yaml.SequenceStartEvent: self.on_collection_start,
            yaml.MappingEndEvent: self.on_collection_end,
            yaml.SequenceEndEvent: self.on_collection_end,
            yaml.AliasEvent: self.on_alias,
            yaml.DocumentStartEvent: self.on_document,
        }

    # --- positions ---------------------------------------------------------------
    def span(self, start: int, end: int) -> Span:
        """Span between two character offsets (used where marks need adjusting)."""
        if self._lines is None:
            self._lines = LineIndex(self.text)
        line, col = self._lines.position(start)
        end_line, end_col = self._lines.position(end)
        return Span(self.file, line, col, end_line, end_col)

    def mark_span(self, start, end) -> Span:
        return Span(self.file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def skip_properties(self, start: int, end: int) -> int:
        """Offset of a node's content after its anchor and tag, so spans start at the value."""
        text, i = self.text, start
        while i < end and text[i] in "&!":
            if text.startswith("!<", i):
                i = text.find(">", i) + 1 or end
            while i < end and text[i] not in _TAG_END:
                i += 1
            while i < end and (text[i] in _SPACE or text[i] == "#"):
                if text[i] == "#":  # a comment between the properties and the content
                    while i < end and text[i] not in "\r\n":
                        i += 1
                i += 1
        return min(i, end)

    def tag_span(self, start: int, end: int) -> Span:
        text = self.text
        i = text.find("!", start, max(end, start + 1))
        if i < 0:
            return self.span(start, end)
        j = text.find(">", i) + 1 if text.startswith("!<", i) else i
        while j < len(text) and text[j] not in _TAG_END:
            j += 1
        return self.span(i, j)

    # --- checks --------------------------------------------------------------------
    def report(self, code: str, message: str, span: Span | None, pointer: str | None = "", **kw) -> None:
        self.diags.append(Diagnostic(code, message, span, pointer or "", **kw))

    def check_tag(self, event, kind: str) -> bool:
        """True when the node has no tag or a core tag that fits ``kind``; else K103."""
        tag = event.tag
        if tag is None or tag == "!":
            return True
        name = tag[len(TAG_PREFIX):] if tag.startswith(TAG_PREFIX) else None
        if name in CORE_TAGS:
            if name == kind or (kind == "scalar" and name not in ("map", "seq")):
                return True
            message = f"tag !!{name} cannot be used on a {_KIND_WORDS[kind]}"
        else:
            message = f"tag {'!!' + name if name is not None else tag} is not allowed"
        self.report("K103", message, self.tag_span(event.start_mark.index, event.end_mark.index),
                    self.child_pointer(), hint="remove the tag; Keel reads plain YAML 1.2 data "
                    "(strings, numbers, booleans, null, lists and mappings)")
        self.usable = False
        return False

    def count_nodes(self, weight: int, mark) -> None:
        self.count += weight
        if self.count > MAX_NODES:
            self.report("K104", f"the document expands to more than {MAX_NODES:,} nodes (each alias counts as a "
                        "copy of its anchored value)", self.mark_span(mark, mark), self.child_pointer(),
                        hint="use fewer aliases (*name), or split the spec")
            raise Stop

    def check_depth(self, height: int, mark) -> None:
        if len(self.stack) + height > MAX_DEPTH:
            self.report("K106", f"nesting is deeper than {MAX_DEPTH} levels", self.mark_span(mark, mark),
                        self.child_pointer(), hint="flatten the structure")
            raise Stop

    def value_checks(self, text: str, value: object, span: Span, plain: bool) -> None:
        """K118 for NaN/infinity; K911 for plain scalars that YAML 1.1 reads differently."""
        if type(value) is float and not math.isfinite(value):
            self.report("K118", f"{text} is read as {value}, which is not a finite number", span,
                        self.child_pointer(), hint=f'quote it ("{text}") if you mean text')
            return
        if not plain or not text or text[0] not in _NOTE_FIRST:
            return
        top = self.stack[-1] if self.stack else None
        if top is not None and top.is_map and top.key is _NO_KEY and type(value) is not str:
            return  # a non-string key: K112 says it all
        note = yaml11_note(text, value)
        if note is not None:
            self.report("K911", note[0], span, self.child_pointer(), hint=note[1])

    # --- structure -------------------------------------------------------------------
    def child_pointer(self) -> str | None:
        """Pointer of the node that starts now, or None when it is not part of the document."""
        if not self.stack:
            return self.prefix
        top = self.stack[-1]
        if top.pointer is None:
            return None
        if top.is_map:
            return _child(top.pointer, top.key) if type(top.key) is str else None
        return _child(top.pointer, len(top.value))

    def complete(self, value: object, span: Span, height: int, scalar=None, start: int = -1) -> None:
        """Attach a finished node to its parent and record where it came from."""
        if not self.stack:
            self.root, self.root_span = value, span
            self.record(self.prefix, span, None, scalar)
            return
        top = self.stack[-1]
        if height >= top.height:
            top.height = height + 1
        top.last = span
        if not top.is_map:
            if top.pointer is not None:
                self.record(_child(top.pointer, len(top.value)), span, None, scalar)
            top.value.append(value)
        elif top.key is _NO_KEY:
            self.take_key(top, value, span, scalar, start)
        else:
            if type(top.key) is str:
                top.value[top.key] = value
                if top.pointer is not None:
                    self.record(_child(top.pointer, top.key), span, top.key_span, scalar)
            top.key, top.key_span = _NO_KEY, None

    def record(self, pointer: str, span: Span, key: Span | None, scalar) -> None:
        if scalar is None:
            self.smap.nodes[pointer] = NodeInfo(span, key)
        else:
            self.smap.nodes[pointer] = NodeInfo(span, key, scalar[0], scalar[1], scalar[2])

    def take_key(self, top: _Frame, key: object, span: Span, scalar, start: int) -> None:
        top.key, top.key_span = _BAD_KEY, span
        if type(key) is not str:
            shown = f" {scalar[1] or '(empty)'}" if scalar is not None else ""
            self.report("K112", f"mapping key{shown} is read as {_TYPE_WORDS.get(type(key), 'null')}, not a string",
                        span, top.pointer, hint="use a plain word as key; quote it if it looks like a number, "
                        "boolean or null")
        elif start > 0 and self.explicit_key(start):
            self.report("K112", "explicit keys (written with ?) are not supported", span, top.pointer,
                        hint="write the key as `name: value`")
        elif key == "<<" and scalar is not None and scalar[0] is None:
            self.report("K113", "merge keys (<<) are not supported", span, top.pointer,
                        hint="write the members out, or share whole values with &anchor and *alias")
        elif key in top.keys:
            pointer = _child(top.pointer, key) if top.pointer is not None else ""
            self.report("K102", f"duplicate key {key!r}: the first one is used", span, pointer,
                        related=(Related(f"{key!r} first defined here", top.keys[key]),),
                        hint="remove or rename one of them")
        else:
            top.keys[key] = span
            top.key = key

    def explicit_key(self, start: int) -> bool:
        """Whether a ``?`` indicator precedes the key on its line (a complex key)."""
        text, i = self.text, start - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        return i >= 0 and text[i] == "?"

    # --- events ------------------------------------------------------------------------
    def on_document(self, event) -> None:
        self.documents += 1
        if self.documents > 1:
            index = event.start_mark.index
            self.report("K109", "a spec file holds one YAML document; a second one starts here",
                        self.span(index, index + 3), None, hint="remove the second ---, or use another file")
            self.usable = False
            raise Stop

    def on_scalar(self, event) -> None:
        start_mark, end_mark = event.start_mark, event.end_mark
        self.count_nodes(1, start_mark)
        style, text, tag = _STYLES[event.style], event.value, event.tag
        start, end = start_mark.index, end_mark.index
        if event.anchor or tag:
            start = self.skip_properties(start, end)
        if style == "|" or style == ">":
            while end > start and self.text[end - 1] in _SPACE:
                end -= 1
        if start != start_mark.index or end != end_mark.index:
            span = self.span(start, end)
        else:
            span = self.mark_span(start_mark, end_mark)
        if tag is None:
            value = text if style is not None else resolve_plain(text)
        elif tag == "!":
            value = text
        elif self.check_tag(event, "scalar"):
            value = resolve_tagged(tag[len(TAG_PREFIX):], text)
            if value is MISMATCH:
                self.report("K103", f"{text!r} cannot be read as !!{tag[len(TAG_PREFIX):]}",
                            self.tag_span(start_mark.index, end), self.child_pointer(), hint="remove the tag")
                self.usable, value = False, None
        else:
            value = None
        self.value_checks(text, value, span, style is None and tag is None)
        source = self.text[start:end]
        if source == (style + text + style if style == "'" or style == '"' else text):
            source = None  # positions follow from the span alone
        if not self.stack and style is None and not text and tag is None:
            self.root_empty = True
        self.complete(value, span, 0, (style, text, source), start)
        if event.anchor:
            self.anchors[event.anchor] = (value, 1, 0)

    def on_alias(self, event) -> None:
        span = self.mark_span(event.start_mark, event.end_mark)
        found = self.anchors.get(event.anchor)
        if found is None:
            contains = event.anchor in self.open_anchors
            self.report("K101", f"alias *{event.anchor} refers to a node that contains it" if contains
                        else f"alias *{event.anchor} refers to an anchor not defined before it", span,
                        self.child_pointer(), hint=f"define &{event.anchor} on a node before this alias")
            self.usable = False
            top = self.stack[-1] if self.stack else None
            if top is not None and top.is_map and top.key is _NO_KEY:
                top.key, top.key_span = _BAD_KEY, span  # reported already; not a K112 too
                return
            self.complete(None, span, 0)
            return
        value, weight, height = found
        self.count_nodes(weight, event.start_mark)
        self.check_depth(height, event.start_mark)
        self.complete(value, span, height)

    def on_collection_start(self, event) -> None:
        mark = event.start_mark
        self.count_nodes(1, mark)
        self.check_depth(1, mark)
        is_map = type(event) is yaml.MappingStartEvent
        self.check_tag(event, "map" if is_map else "seq")
        if event.anchor or event.tag:
            index = self.skip_properties(mark.index, event.end_mark.index)
            start = self.span(index, index)
        else:
            start = self.mark_span(mark, mark)
        if event.anchor:
            self.open_anchors.add(event.anchor)
        value: dict | list = {} if is_map else []
        self.stack.append(_Frame(value, self.child_pointer(), start, self.count - 1, event.anchor, event.flow_style))

    def on_collection_end(self, event) -> None:
        frame = self.stack.pop()
        start, last = frame.start, frame.last
        if frame.flow:
            last = event.end_mark
            span = Span(self.file, start.line, start.column, last.line + 1, last.column + 1)
        elif last.end_line is not None:
            span = Span(self.file, start.line, start.column, last.end_line, last.end_column)
        else:
            span = start
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, self.count - frame.start_count, frame.height)
        self.complete(frame.value, span, frame.height)
