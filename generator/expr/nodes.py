"""The expression AST: small frozen dataclasses that the compilers walk.

Every node carries ``start``/``end`` character offsets (end exclusive) into the
source text. Offsets are excluded from equality, so ``parse(unparse(e)) == e``
holds and hand-built nodes (offsets default to 0) compare equal to parsed ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union

__all__ = [
    "BINARY_OPS",
    "Binary",
    "Call",
    "Expr",
    "FUNCTIONS",
    "ListLiteral",
    "Literal",
    "Path",
    "ROOTS",
    "Unary",
    "children",
]

ROOTS = ("user", "record", "input")

# name -> number of arguments. Types are checked in typecheck.py.
FUNCTIONS: dict[str, int] = {
    "today": 0,
    "now": 0,
    "days": 1,
    "sum": 1,
    "count": 1,
    "min": 1,
    "max": 1,
    "len": 1,
    "lower": 1,
    "coalesce": 2,
}

BINARY_OPS = ("or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/")

LiteralValue = Union[int, Decimal, str, bool, None]


def _pos() -> int:
    return field(default=0, compare=False)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant. ``kind`` is "int", "decimal", "string", "bool" or "null"."""

    value: LiteralValue
    kind: str
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True, slots=True)
class ListLiteral:
    items: tuple["Expr", ...]
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True, slots=True)
class Path:
    """``root.field.field``; ``field_spans`` has one (start, end) per field name."""

    root: str
    fields: tuple[str, ...] = ()
    start: int = _pos()
    end: int = _pos()
    field_spans: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    def segment_span(self, index: int) -> tuple[int, int]:
        """Span of field ``index`` (-1 = the root), falling back to the whole path."""
        if index < 0:
            return (self.start, self.start + len(self.root))
        if index < len(self.field_spans):
            return self.field_spans[index]
        return (self.start, self.end)


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple["Expr", ...] = ()
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True, slots=True)
class Unary:
    """``not x`` or ``-x``."""

    op: str
    operand: "Expr"
    start: int = _pos()
    end: int = _pos()


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: "Expr"
    right: "Expr"
    start: int = _pos()
    end: int = _pos()


Expr = Union[Literal, ListLiteral, Path, Call, Unary, Binary]


def children(node: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions, in source order."""
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, ListLiteral):
        return node.items
    return ()
