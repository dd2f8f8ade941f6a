"""Invariants as database CHECK constraints, for the ones whose meaning SQL keeps exactly.

A CHECK sees one row, passes on NULL and must mean the same on SQLite and PostgreSQL,
so only a small, row-local subset is compiled here; anything else is enforced by the
app alone (``generator/ir/invariants.py``) and ``to_check_sql`` returns None:

* ``record.<stored field>`` (a ref is its key), numeric, string and enum literals, ``null``;
* ``and``, ``or``, ``not``; ``+``, ``-``, ``*`` on numbers;
* ``==``/``!=`` (null is a value, as in the language: ``x == null`` is ``x IS NULL``, and
  ``x != 'a'`` holds when x is missing), ``<``, ``<=``, ``>``, ``>=`` on numbers and dates
  (false when a side is missing), ``in``/``not in`` a list of literals.

Not compiled: ``user``, ``input``, relations, functions (``today()`` changes daily, which a
CHECK must not), booleans (stored as 0/1 on SQLite), string ordering (collations differ),
division (division by zero differs). Every comparison is made two-valued in SQL by guarding
its nullable columns, so NULL never leaks into ``and``/``or``/``not`` and the constraint
fails exactly when the language says the invariant is false. Column names come from the
IR (validated identifiers) and are quoted; string literals are quoted with '' doubled.
"""

from __future__ import annotations

from decimal import Decimal

from generator.expr.nodes import Binary, Expr, ListLiteral, Literal, Path, Unary
from generator.ir.nodes import ColumnIR

__all__ = ["to_check_sql"]

_ORDERED_TYPES = ("integer", "decimal", "date", "datetime")
_NUMERIC_TYPES = ("integer", "decimal")


class _Unsupported(Exception):
    pass


class _Operand:
    """A SQL value: its text, the nullable columns it reads, and its kind."""

    def __init__(self, sql: str, nullable: tuple[str, ...], kind: str) -> None:
        self.sql, self.nullable, self.kind = sql, nullable, kind


def to_check_sql(expr: Expr, columns: dict[str, ColumnIR]) -> str | None:
    """SQL text of a CHECK for ``expr`` over one row, or None when SQL cannot keep its meaning.

    ``columns`` maps each field name of the entity (a ref by its field name) to its column.
    """
    try:
        return _condition(expr, columns)
    except _Unsupported:
        return None


def _condition(node: Expr, columns: dict[str, ColumnIR]) -> str:
    if isinstance(node, Binary) and node.op in ("and", "or"):
        return f"({_condition(node.left, columns)} {node.op.upper()} {_condition(node.right, columns)})"
    if isinstance(node, Unary) and node.op == "not":
        return f"(NOT {_condition(node.operand, columns)})"
    if isinstance(node, Binary) and node.op in ("==", "!=", "<", "<=", ">", ">="):
        return _compare(node.op, node.left, node.right, columns)
    if isinstance(node, Binary) and node.op in ("in", "not in") and isinstance(node.right, ListLiteral):
        return _member(node.op == "not in", node.left, node.right, columns)
    raise _Unsupported


def _compare(op: str, left: Expr, right: Expr, columns: dict[str, ColumnIR]) -> str:
    if _is_null(right) or _is_null(left):
        side = _value(left if _is_null(right) else right, columns)
        if op not in ("==", "!="):
            return "(1 = 0)"  # an ordering comparison with null is false
        return f"({side.sql} IS {'' if op == '==' else 'NOT '}NULL)"
    x, y = _value(left, columns), _value(right, columns)
    if op in ("==", "!="):
        if x.kind != y.kind and not {x.kind, y.kind} <= set(_NUMERIC_TYPES):
            raise _Unsupported
        nullable = tuple(dict.fromkeys(x.nullable + y.nullable))
        if nullable and x.nullable and y.nullable:
            raise _Unsupported  # null == null is true in the language: needs IS [NOT] DISTINCT FROM
        present = " AND ".join(f"{c} IS NOT NULL" for c in nullable)
        if op == "==":
            return f"({present} AND {x.sql} = {y.sql})" if present else f"({x.sql} = {y.sql})"
        missing = " OR ".join(f"{c} IS NULL" for c in nullable)
        return f"({missing} OR {x.sql} <> {y.sql})" if missing else f"({x.sql} <> {y.sql})"
    if x.kind not in _ORDERED_TYPES or y.kind not in _ORDERED_TYPES:
        raise _Unsupported
    if (x.kind in _NUMERIC_TYPES) != (y.kind in _NUMERIC_TYPES):
        raise _Unsupported
    nullable = tuple(dict.fromkeys(x.nullable + y.nullable))
    present = " AND ".join(f"{c} IS NOT NULL" for c in nullable)
    test = f"{x.sql} {op} {y.sql}"
    return f"({present} AND {test})" if present else f"({test})"


def _member(negate: bool, left: Expr, items: ListLiteral, columns: dict[str, ColumnIR]) -> str:
    x = _value(left, columns)
    values = [_value(item, columns) for item in items.items]
    if not values or any(v.nullable or v.kind != x.kind for v in values) or x.kind not in ("string", "integer"):
        raise _Unsupported
    listed = ", ".join(v.sql for v in values)
    present = " AND ".join(f"{c} IS NOT NULL" for c in x.nullable)
    test = f"{x.sql} IN ({listed})"
    inside = f"({present} AND {test})" if present else f"({test})"
    return f"(NOT {inside})" if negate else inside


def _value(node: Expr, columns: dict[str, ColumnIR]) -> _Operand:
    if isinstance(node, Path) and node.root == "record" and len(node.fields) == 1:
        column = columns.get(node.fields[0])
        if column is None:
            raise _Unsupported  # a computed or to-many field
        kind = {"enum": "string", "text": "string", "email": "string", "url": "string", "slug": "string",
                "ref": "key", "id": "key"}.get(column.spec_type, column.spec_type)
        if kind not in ("string", "integer", "decimal", "date", "datetime", "key"):
            raise _Unsupported
        quoted = f'"{column.column}"'
        return _Operand(quoted, (quoted,) if column.nullable else (), kind)
    if isinstance(node, Literal):
        value = node.value
        if isinstance(value, bool) or value is None:
            raise _Unsupported
        if isinstance(value, int):
            return _Operand(str(value), (), "integer")
        if isinstance(value, Decimal):
            return _Operand(str(value), (), "decimal")
        if isinstance(value, str):
            return _Operand("'" + value.replace("'", "''") + "'", (), "string")
        raise _Unsupported
    if isinstance(node, Unary) and node.op == "-":
        inner = _value(node.operand, columns)
        if inner.kind not in _NUMERIC_TYPES:
            raise _Unsupported
        return _Operand(f"(-{inner.sql})", inner.nullable, inner.kind)
    if isinstance(node, Binary) and node.op in ("+", "-", "*"):
        x, y = _value(node.left, columns), _value(node.right, columns)
        if x.kind not in _NUMERIC_TYPES or y.kind not in _NUMERIC_TYPES:
            raise _Unsupported
        kind = "integer" if x.kind == y.kind == "integer" else "decimal"
        return _Operand(f"({x.sql} {node.op} {y.sql})", x.nullable + y.nullable, kind)
    raise _Unsupported


def _is_null(node: Expr) -> bool:
    return isinstance(node, Literal) and node.value is None
