"""Plain-English rendering of an expression, for docs, ``keel explain`` and "why was I denied".

Deliberately simple: a fixed phrase per construct, with ``and``/``or`` lists
flattened and an inner ``or`` introduced by "either" so the grouping survives.
``record`` names the record the rule is about ("the record" by default; "the
task", or "it" inside a sentence whose subject is the task: "its assignee").
"""

from __future__ import annotations

import re

from generator.expr.nodes import Binary, Call, Expr, ListLiteral, Literal, Path, Unary
from generator.expr.unparse import literal_text

__all__ = ["possessive", "to_english", "to_english_condition"]

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
# sum/min/max over a field of a to-many path: "the total amount of its lines".
_OVER_FIELD = {"sum": "the total {} of {}", "min": "the smallest {} of {}", "max": "the largest {} of {}"}
_WORD = re.compile(r"[A-Za-z0-9_ -]+")


def possessive(owner: str) -> str:
    """``the task`` -> ``the task's``; ``it`` -> ``its``; ``the lines`` -> ``the lines'``."""
    if owner == "it":
        return "its"
    return owner + ("'" if owner.endswith("s") else "'s")


def _words(name: str) -> str:
    return name.replace("_", " ")


class _Renderer:
    def __init__(self, record: str) -> None:
        self.roots = {"user": "the current user", "record": record}

    def path(self, node: Path, fields: tuple[str, ...] | None = None) -> str:
        fields = node.fields if fields is None else fields
        if node.root == "input" and fields:  # input.reason -> "the given reason"
            text = f"the given {_words(fields[0])}"
            fields = fields[1:]
        else:
            text = self.roots.get(node.root, node.root)
        for name in fields:
            text = f"{possessive(text)} {_words(name)}"
        return text

    def literal(self, node: Literal) -> str:
        if node.kind == "null":
            return "empty"
        if node.kind == "string":
            value = str(node.value)
            return value if value and _WORD.fullmatch(value) else f"“{value}”"
        return literal_text(node)

    def call(self, node: Call) -> str:
        if node.name == "today":
            return "today"
        if node.name == "now":
            return "now"
        if node.name in _OVER_FIELD and isinstance(node.args[0], Path) and len(node.args[0].fields) >= 2:
            arg = node.args[0]
            return _OVER_FIELD[node.name].format(_words(arg.fields[-1]), self.path(arg, arg.fields[:-1]))
        args = [self.english(a) for a in node.args]
        if node.name == "days":
            one = isinstance(node.args[0], Literal) and node.args[0].value == 1
            return f"{args[0]} day" if one else f"{args[0]} days"
        if node.name == "coalesce":
            return f"{args[0]} (or {args[1]} if that is empty)"
        if node.name in _AGGREGATES:
            return _AGGREGATES[node.name].format(*args)
        return f"{node.name}({', '.join(args)})"

    def membership(self, node: Binary) -> str:
        left = self.english(node.left)
        if isinstance(node.right, ListLiteral):
            items = [self.english(i) for i in node.right.items]
            if node.op == "in":
                return f"{left} is {_join(items, 'or')}" if items else "never true"
            if len(items) == 1:
                return f"{left} is not {items[0]}"
            return f"{left} is none of {_join(items, 'or')}" if items else "always true"
        verb = "is one of" if node.op == "in" else "is not one of"
        return f"{left} {verb} {self.english(node.right)}"

    def logic(self, node: Binary, nested: bool = False) -> str:
        """``and``/``or`` chains as lists; an ``or`` inside an ``and`` reads "either A or B"."""
        parts = []
        for part in _flatten(node, node.op):
            if isinstance(part, Binary) and part.op == "or":
                parts.append(self.logic(part, nested=True))
            else:
                parts.append(self.condition(part))
        if nested:
            return "either " + " or ".join(parts)
        return _join(parts, node.op, comma_for_two=node.op == "or")

    def condition(self, node: Expr) -> str:
        """``node`` used as a yes/no condition: a bare yes/no field reads "... is true"."""
        if isinstance(node, Path) and node.fields:
            return f"{self.path(node)} is true"
        return self.english(node)

    def negation(self, node: Expr) -> str:
        """``not x``: flip a comparison when possible, otherwise say it plainly."""
        if isinstance(node, Binary) and node.op in _NEGATED:
            return self.english(Binary(_NEGATED[node.op], node.left, node.right))
        if isinstance(node, Path) and node.fields:
            return f"{self.path(node)} is false"
        return f"it is not the case that {self.english(node)}"

    def english(self, node: Expr) -> str:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, ListLiteral):
            return _join([self.english(i) for i in node.items], "or") if node.items else "nothing"
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Unary):
            return self.negation(node.operand) if node.op == "not" else f"minus {self.english(node.operand)}"
        if node.op in ("and", "or"):
            return self.logic(node)
        if node.op in ("in", "not in"):
            return self.membership(node)
        if node.op in _COMPARE:
            for value, null in ((node.left, node.right), (node.right, node.left)):
                if node.op in ("==", "!=") and isinstance(null, Literal) and null.kind == "null":
                    return f"{self.english(value)} is {'empty' if node.op == '==' else 'set'}"
            left, right = self.english(node.left), self.english(node.right)
            timed = node.op in _TIME_COMPARE and (_is_time(node.left) or _is_time(node.right))
            verb = _TIME_COMPARE[node.op] if timed else _COMPARE[node.op]
            return f"{left} {verb} {right}"
        left, right = self.english(node.left), self.english(node.right)
        return f"{left} {_ARITH[node.op]} {right}"


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


def to_english(expr: Expr, record: str = "the record") -> str:
    """A readable sentence fragment for ``expr`` (no trailing full stop).

    ``record`` is how the record is named: "the record" (default), "the task", or "it"
    (then its fields read "its due date").
    """
    return _Renderer(record).english(expr)


def to_english_condition(expr: Expr, record: str = "the record") -> str:
    """Like ``to_english``, for an expression known to be a yes/no condition (a bare field reads "... is true")."""
    return _Renderer(record).condition(expr)
