"""Pure rules about types: how two types combine, and what arithmetic yields.

Kept apart from the tree walk in typecheck.py so each rule can be read (and
tested) on its own. ``None`` always means "not allowed"; the walker turns that
into an error pointing at the right sub-expression.
"""

from __future__ import annotations

from dataclasses import replace

from generator.expr.types import (
    DECIMAL,
    INTEGER,
    EntityType,
    EnumType,
    FieldInfo,
    ListType,
    NullType,
    Scalar,
    Type,
    Unknown,
)

__all__ = [
    "MIN_MAX", "NUMERIC", "ORDERED", "arithmetic", "assignable", "field_type",
    "is_nullable", "is_unknown", "item_in", "join", "nullable", "order_type",
    "scalar_name", "set_nullable",
]  # fmt: skip

NUMERIC = frozenset({"integer", "decimal"})
ORDERED = frozenset({"integer", "decimal", "date", "datetime", "string"})
# Spec field types that become a plain scalar in expressions.
_SCALARS = {
    "string": "string", "text": "string", "email": "string", "url": "string", "slug": "string",
    "integer": "integer", "decimal": "decimal", "boolean": "boolean", "date": "date",
    "datetime": "datetime", "uuid": "uuid", "json": "json",
}  # fmt: skip


def is_unknown(*types: Type) -> bool:
    return any(isinstance(t, Unknown) for t in types)


def set_nullable(t: Type, flag: bool) -> Type:
    """``t`` with its nullable flag set to ``flag`` (lists, null and unknown unchanged)."""
    if isinstance(t, (Scalar, EnumType, EntityType)) and t.nullable != flag:
        return replace(t, nullable=flag)
    return t


def nullable(t: Type, flag: bool = True) -> Type:
    """``t`` marked as possibly null when ``flag``; never clears the mark."""
    return set_nullable(t, True) if flag else t


def is_nullable(t: Type) -> bool:
    return bool(getattr(t, "nullable", False))


def scalar_name(t: Type) -> str | None:
    return t.name if isinstance(t, Scalar) else None


def join(a: Type, b: Type) -> Type | None:
    """The common type of two values that may be compared or mixed, else None."""
    if isinstance(a, Unknown):
        return b
    if isinstance(b, Unknown):
        return a
    if isinstance(a, NullType):
        return nullable(b)
    if isinstance(b, NullType):
        return nullable(a)
    either_null = is_nullable(a) or is_nullable(b)
    if isinstance(a, Scalar) and isinstance(b, Scalar):
        if a.name == b.name:
            return nullable(a, either_null)
        if {a.name, b.name} == NUMERIC:
            return nullable(DECIMAL, either_null)
        return None
    if isinstance(a, EnumType) and isinstance(b, EnumType):
        return nullable(a, either_null) if set(a.values) == set(b.values) else None
    if isinstance(a, EntityType) and isinstance(b, EntityType):
        return nullable(a, either_null) if a.name == b.name else None
    if isinstance(a, ListType) and isinstance(b, ListType):
        item = join(a.item, b.item)
        return ListType(item) if item is not None else None
    return None


def assignable(expected: Type, actual: Type) -> bool:
    """May a value of type ``actual`` stand where ``expected`` is declared?"""
    if is_unknown(expected, actual) or isinstance(actual, NullType):
        return True
    if scalar_name(expected) == "integer" and scalar_name(actual) == "decimal":
        return False  # would silently drop the fraction
    return join(expected, actual) is not None


def arithmetic(op: str, a: Type, b: Type) -> Type | None:
    """Result type of ``a op b`` for + - * /, or None when not allowed."""
    x, y = scalar_name(a), scalar_name(b)
    if x is None or y is None:
        return None
    either_null = is_nullable(a) or is_nullable(b)
    if x in NUMERIC and y in NUMERIC:
        if op == "/" or "decimal" in (x, y):
            return nullable(DECIMAL, either_null)
        return nullable(INTEGER, either_null)
    result: Type | None = None
    if op in ("+", "-") and x in ("date", "datetime") and y == "duration":
        result = a
    elif op == "+" and x == "duration" and y in ("date", "datetime"):
        result = b
    elif op in ("+", "-") and x == y == "duration":
        result = a
    elif op == "-" and x == y == "date":
        result = INTEGER
    return nullable(result, either_null) if result is not None else None


def field_type(info: FieldInfo, owner: str) -> Type | None:
    """The expression type of a field; None for a password (never readable)."""
    if info.kind in ("many", "has_many"):
        return ListType(EntityType(info.target or "?"))
    if info.kind == "ref":
        return EntityType(info.target or "?", nullable=info.nullable)
    if info.scalar == "password":
        return None
    if info.scalar == "enum":
        return EnumType(owner, info.name, tuple(info.enum_values), nullable=info.nullable)
    name = _SCALARS.get(info.scalar or "")
    return Scalar(name, nullable=info.nullable) if name else Unknown()


def order_type(t: Type) -> bool:
    return scalar_name(t) in ORDERED


def item_in(t: Type, names: frozenset[str] | set[str]) -> bool:
    """Is ``t`` a list whose items are scalars named in ``names``?"""
    return isinstance(t, ListType) and (is_unknown(t.item) or scalar_name(t.item) in names)


MIN_MAX = frozenset({"integer", "decimal", "date", "datetime"})
