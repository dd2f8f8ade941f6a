"""Types of expression values, and the view of the spec the type checker needs.

The checker never sees the spec model itself: it asks a ``SchemaView`` about
entities and fields, so it can be tested with a tiny fake and reused by any
stage. ``nullable`` is carried on types but ignored by equality: it describes
whether a value may be missing, not what kind of value it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Union

__all__ = [
    "BOOLEAN",
    "Context",
    "DATE",
    "DATETIME",
    "DECIMAL",
    "DURATION",
    "EntityType",
    "EnumType",
    "FieldInfo",
    "INTEGER",
    "JSON",
    "ListType",
    "NullType",
    "STRING",
    "Scalar",
    "SchemaView",
    "Type",
    "UUID",
    "Unknown",
    "describe",
]

SCALAR_NAMES = ("string", "integer", "decimal", "boolean", "date", "datetime", "uuid", "json", "duration")


def _nullable() -> bool:
    return field(default=False, compare=False)  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Scalar:
    name: str
    nullable: bool = _nullable()


@dataclass(frozen=True, slots=True)
class EnumType:
    """Values of one enum field; ``entity`` is "input" for an input field."""

    entity: str
    field: str
    values: tuple[str, ...]
    nullable: bool = _nullable()


@dataclass(frozen=True, slots=True)
class EntityType:
    name: str
    nullable: bool = _nullable()


@dataclass(frozen=True, slots=True)
class ListType:
    """A to-many value; never null (empty instead)."""

    item: "Type"


@dataclass(frozen=True, slots=True)
class NullType:
    """The type of the literal ``null``."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """The type of something already reported as wrong; accepted everywhere."""


Type = Union[Scalar, EnumType, EntityType, ListType, NullType, Unknown]

STRING = Scalar("string")
INTEGER = Scalar("integer")
DECIMAL = Scalar("decimal")
BOOLEAN = Scalar("boolean")
DATE = Scalar("date")
DATETIME = Scalar("datetime")
UUID = Scalar("uuid")
JSON = Scalar("json")
DURATION = Scalar("duration")


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What the checker needs to know about one field of an entity (or input).

    kind: "scalar" | "ref" | "many" | "has_many". ``scalar`` is the spec's field
    type for scalars (string, text, integer, ..., enum, json, password, slug);
    ``target`` is the related entity for the other kinds.
    """

    name: str
    kind: str
    scalar: str | None = None
    target: str | None = None
    enum_values: tuple[str, ...] = ()
    nullable: bool = False


class SchemaView(Protocol):
    def entity_names(self) -> list[str]: ...

    def field(self, entity: str, name: str) -> FieldInfo | None: ...

    def field_names(self, entity: str) -> list[str]: ...


@dataclass(frozen=True)
class Context:
    """Which roots an expression may use where it appears.

    record: entity that ``record`` refers to (None: no record here).
    user: the user entity (None: the spec has no auth, so no ``user``).
    input: fields of the request input (None: no input here).
    where: a short description such as "a list permission", for messages.
    """

    record: str | None = None
    user: str | None = None
    input: dict[str, FieldInfo] | None = None
    where: str = "this expression"
    no_user_reason: str = "the spec has no `auth` section, so requests are anonymous"


def describe(t: Type) -> str:
    """A short human name for a type, for error messages."""
    if isinstance(t, Scalar):
        return t.name
    if isinstance(t, EnumType):
        return f"{t.entity}.{t.field} (one of {', '.join(t.values)})"
    if isinstance(t, EntityType):
        return t.name
    if isinstance(t, ListType):
        return f"list of {describe(t.item)}"
    if isinstance(t, NullType):
        return "null"
    return "unknown"
