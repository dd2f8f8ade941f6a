"""Plain-English rendering of an expression, for docs and "why was I denied".

Deliberately simple: a fixed phrase per construct, with ``and``/``or`` lists
flattened and an inner ``or`` introduced by "either" so the grouping survives.
"""

from __future__ import annotations

import re

from generator.expr.nodes import Binary, Call, Expr, ListLiteral, Literal, Path, Unary
from generator.expr.unparse import literal_text

__all__ = ["to_english"]

_ROOTS = {"user": "the current user", "record": "the record", "input": "the input"}
_COMPARE = {
    "==": "is",
    "!=": "is not",
    "<": "is less than",
    "<=": "is at most",
    ">": "is greater than",
    ">=": "is at least",
}
_TIME_COMPARE = {"<": "is before", "<=": "is on or before", ">": "is after", ">=": "is on or after"}
_NEGATED = {"==": "!=", "!=": "==", "in": "not in", "not in": "in", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_ARITH = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}
_AGGREGATES = {
    "sum": "the total of {}",
    "count": "the number of {}",
    "min": "the smallest of {}",
    "max": "the largest of {}",
    "len": "the length of {}",
    "lower": "{} in lower case",
}
_WORD = re.compile(r"[A-Za-z0-9_ -]+")


def _possessive(owner: str) -> str:
    return owner + ("'" if owner.endswith("s") else "'s")


def _path(node: Path) -> str:
    text = _ROOTS.get(node.root, node.root)
    for name in node.fields:
        text = f"{_possessive(text)} {name.replace('_', ' ')}"
    return text


def _literal_text(node: Literal) -> str:
    if node.kind == "null":
        return "empty"
    if node.kind == "string":
        value = str(node.value)
        return value if value and _WORD.fullmatch(value) else f"“{value}”"
    return literal_text(node)


def _join(parts: list[str], word: str, comma_for_two: bool = False) -> str:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return f"{parts[0]}{',' if comma_for_two else ''} {word} {parts[1]}"
    return f"{', '.join(parts[:-1])}, {word} {parts[-1]}"


def _flatten(node: Expr, op: str) -> list[Expr]:
    if isinstance(node, Binary) and node.op == op:
        return _flatten(node.left, op) + _flatten(node.right, op)
    return [node]


def _is_time(node: Expr) -> bool:
    if isinstance(node, Call):
        return node.name in ("today", "now")
    return isinstance(node, Binary) and (_is_time(node.left) or _is_time(node.right))


def _call(node: Call) -> str:
    if node.name == "today":
        return "today"
    if node.name == "now":
        return "now"
    args = [_english(a) for a in node.args]
    if node.name == "days":
        one = isinstance(node.args[0], Literal) and node.args[0].value == 1
        return f"{args[0]} day" if one else f"{args[0]} days"
    if node.name == "coalesce":
        return f"{args[0]} (or {args[1]} if that is empty)"
    if node.name in _AGGREGATES:
        return _AGGREGATES[node.name].format(*args)
    return f"{node.name}({', '.join(args)})"


def _membership(node: Binary) -> str:
    left = _english(node.left)
    if isinstance(node.right, ListLiteral):
        items = [_english(i) for i in node.right.items]
        if node.op == "in":
            return f"{left} is {_join(items, 'or')}" if items else "never true"
        if len(items) == 1:
            return f"{left} is not {items[0]}"
        return f"{left} is none of {_join(items, 'or')}" if items else "always true"
    verb = "is one of" if node.op == "in" else "is not one of"
    return f"{left} {verb} {_english(node.right)}"


def _logic(node: Binary, nested: bool = False) -> str:
    """``and``/``or`` chains as lists; an ``or`` inside an ``and`` reads "either A or B"."""
    parts = []
    for part in _flatten(node, node.op):
        if isinstance(part, Binary) and part.op == "or":
            parts.append(_logic(part, nested=True))
        elif isinstance(part, Path):  # a yes/no field used as a condition
            parts.append(f"{_path(part)} is true")
        else:
            parts.append(_english(part))
    if nested:
        return "either " + " or ".join(parts)
    return _join(parts, node.op, comma_for_two=node.op == "or")


def _negation(node: Expr) -> str:
    """``not x``: flip a comparison when possible, otherwise say it plainly."""
    if isinstance(node, Binary) and node.op in _NEGATED:
        return _english(Binary(_NEGATED[node.op], node.left, node.right))
    if isinstance(node, Path):
        return f"{_path(node)} is false"
    return f"it is not the case that {_english(node)}"


def _english(node: Expr) -> str:
    if isinstance(node, Literal):
        return _literal_text(node)
    if isinstance(node, Path):
        return _path(node)
    if isinstance(node, ListLiteral):
        return _join([_english(i) for i in node.items], "or") if node.items else "nothing"
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, Unary):
        return _negation(node.operand) if node.op == "not" else f"minus {_english(node.operand)}"
    if node.op in ("and", "or"):
        return _logic(node)
    if node.op in ("in", "not in"):
        return _membership(node)
    if node.op in _COMPARE:
        for value, null in ((node.left, node.right), (node.right, node.left)):
            if node.op in ("==", "!=") and isinstance(null, Literal) and null.kind == "null":
                return f"{_english(value)} is {'empty' if node.op == '==' else 'set'}"
        left, right = _english(node.left), _english(node.right)
        timed = node.op in _TIME_COMPARE and (_is_time(node.left) or _is_time(node.right))
        verb = _TIME_COMPARE[node.op] if timed else _COMPARE[node.op]
        return f"{left} {verb} {right}"
    left, right = _english(node.left), _english(node.right)
    return f"{left} {_ARITH[node.op]} {right}"


def to_english(expr: Expr) -> str:
    """A readable sentence fragment for ``expr`` (no trailing full stop)."""
    return _english(expr)
