"""Canonical text for an AST, with the fewest parentheses that keep its shape.

``parse(unparse(e)) == e`` (offsets aside), which lets tools rewrite
expressions (renames, normalisation) and print them back into the spec.
"""

from __future__ import annotations

from decimal import Decimal

from generator.expr.nodes import Binary, Call, Expr, ListLiteral, Literal, Path, Unary

__all__ = ["PRECEDENCE", "literal_text", "quote", "unparse"]

# Binding strength; higher binds tighter. Atoms (paths, calls, literals) are 9.
PRECEDENCE = {
    "or": 1,
    "and": 2,
    "not": 3,
    "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "in": 4, "not in": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6,
    "neg": 7,
}  # fmt: skip
_ATOM = 9


def quote(value: str) -> str:
    """A single-quoted string literal using only the escapes the lexer knows."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{escaped}'"


def literal_text(node: Literal) -> str:
    if node.kind == "null":
        return "null"
    if node.kind == "bool":
        return "true" if node.value else "false"
    if node.kind == "string":
        return quote(str(node.value))
    if node.kind == "decimal" and isinstance(node.value, Decimal):
        text = format(node.value, "f")
        return text if "." in text else text + ".0"
    return str(node.value)


def _wrap(node: Expr, minimum: int) -> str:
    text, prec = _unparse(node)
    return f"({text})" if prec < minimum else text


def _unparse(node: Expr) -> tuple[str, int]:
    if isinstance(node, Literal):
        return literal_text(node), _ATOM
    if isinstance(node, Path):
        return ".".join((node.root, *node.fields)), _ATOM
    if isinstance(node, Call):
        return f"{node.name}({', '.join(_wrap(a, 0) for a in node.args)})", _ATOM
    if isinstance(node, ListLiteral):
        return f"[{', '.join(_wrap(i, 0) for i in node.items)}]", _ATOM
    if isinstance(node, Unary):
        if node.op == "not":
            return f"not {_wrap(node.operand, PRECEDENCE['not'])}", PRECEDENCE["not"]
        return f"-{_wrap(node.operand, PRECEDENCE['neg'])}", PRECEDENCE["neg"]
    if isinstance(node, Binary):
        prec = PRECEDENCE[node.op]
        # Left-associative: the left side may share our level, the right may not.
        # Comparisons do not associate at all, so neither side may.
        left_min = prec + 1 if prec == PRECEDENCE["=="] else prec
        return f"{_wrap(node.left, left_min)} {node.op} {_wrap(node.right, prec + 1)}", prec
    raise TypeError(f"not an expression node: {node!r}")


def unparse(expr: Expr) -> str:
    """Canonical source text for ``expr``."""
    return _unparse(expr)[0]
