"""How each spec field type is stored, typed in Python and described in JSON Schema.

One table, decided once in Python and tested, so the models, the Pydantic
schemas, the JSON Schemas and the OpenAPI document can never disagree about a
type. Every string here is printed verbatim into generated code.

Wire choices, for exactness and safety:
  * decimals travel as JSON strings ("12.50"), never floats;
  * integers are bounded to 64 bits so no request can overflow a column;
  * enums are strings with a CHECK constraint (portable, and migrations stay simple);
  * datetimes are time-zone aware and stored in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.ir.decimal_range import bounded_decimal_pattern
from generator.model.spec import Field

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
DEFAULT_STRING_LENGTH = 255
DEFAULT_DECIMAL = (18, 2)


@dataclass(frozen=True, slots=True)
class StorageType:
    sa_type: str  # SQLAlchemy type expression, e.g. "String(200)"
    py_type: str  # Python annotation of the attribute, e.g. "decimal.Decimal"
    json_schema: dict[str, Any]  # JSON Schema of the value on the wire


def id_storage(strategy: str) -> StorageType:
    if strategy == "integer":
        return StorageType('BigInteger().with_variant(Integer(), "sqlite")', "int",
                           {"type": "integer", "minimum": 1, "maximum": INT64_MAX})
    return StorageType("Uuid()", "uuid.UUID", {"type": "string", "format": "uuid"})


def decimal_digits(f: Field) -> tuple[int, int]:
    precision = f.precision if f.precision is not None else DEFAULT_DECIMAL[0]
    scale = f.scale if f.scale is not None else DEFAULT_DECIMAL[1]
    return precision, scale


def decimal_pattern(precision: int, scale: int) -> str:
    whole = precision - scale
    fraction = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
    return rf"^-?[0-9]{{1,{whole}}}{fraction}$" if whole > 0 else rf"^-?0?\.[0-9]{{1,{scale}}}$"


# Text of any kind but with a NUL character, which PostgreSQL cannot store and SQLite cuts text at: the
# generated app refuses it (wire.Text), so the schema says so.
NO_NUL = "^[^\\x00]*$"


def scalar_storage(f: Field) -> StorageType:
    """Storage for a scalar field (relations are handled by the IR builder)."""
    t = f.type
    schema: dict[str, Any]
    if t in ("string", "slug"):
        length = f.max_length or (120 if t == "slug" else DEFAULT_STRING_LENGTH)
        schema = {"type": "string", "maxLength": length}
        if f.min_length is not None:
            schema["minLength"] = f.min_length
        if t == "slug":
            schema["pattern"] = "^[a-z0-9]+(?:-[a-z0-9]+)*$"
        elif f.pattern is not None:
            schema["pattern"] = f.pattern
        else:
            schema["pattern"] = NO_NUL
        return StorageType(f"String({length})", "str", schema)
    if t == "text":
        schema = {"type": "string", "pattern": NO_NUL}
        if f.max_length is not None:
            schema["maxLength"] = f.max_length
        if f.min_length is not None:
            schema["minLength"] = f.min_length
        return StorageType("Text()", "str", schema)
    if t == "email":
        length = f.max_length or 254
        return StorageType(f"String({length})", "str", {"type": "string", "format": "email", "maxLength": length})
    if t == "url":
        length = f.max_length or 2048
        return StorageType(f"String({length})", "str", {"type": "string", "format": "uri", "maxLength": length})
    if t == "integer":
        low = int(f.min) if f.min is not None else INT64_MIN
        high = int(f.max) if f.max is not None else INT64_MAX
        return StorageType("BigInteger()", "int", {"type": "integer", "minimum": low, "maximum": high})
    if t == "decimal":
        precision, scale = decimal_digits(f)
        schema = {"type": "string", "format": "decimal", "pattern": decimal_pattern(precision, scale)}
        # JSON Schema cannot bound a number written as a string: the pattern carries the bounds, and
        # they are kept as annotations too.
        bounds = decimal_bounds(f)
        if bounds and precision > scale:
            schema["pattern"] = bounded_decimal_pattern(precision - scale, scale, bounds.get("minimum"),
                                                        bounds.get("maximum"))
        schema.update({f"x-{k}": v for k, v in bounds.items()})
        return StorageType(f"Numeric({precision}, {scale}, asdecimal=True)", "decimal.Decimal", schema)
    if t == "boolean":
        return StorageType("Boolean()", "bool", {"type": "boolean"})
    if t == "date":
        return StorageType("Date()", "datetime.date", {"type": "string", "format": "date"})
    if t == "datetime":
        return StorageType("DateTime(timezone=True)", "datetime.datetime", {"type": "string", "format": "date-time"})
    if t == "uuid":
        return StorageType("Uuid()", "uuid.UUID", {"type": "string", "format": "uuid"})
    if t == "enum":
        length = max(len(v) for v in f.values)
        return StorageType(f"String({length})", "str", {"type": "string", "enum": list(f.values)})
    if t == "json":
        return StorageType("JSON()", "Any", {})
    if t == "password":
        # Only the argon2 hash is stored; the plain password exists on the wire, write-only.
        schema = {"type": "string", "format": "password", "writeOnly": True,
                  "minLength": f.min_length if f.min_length is not None else 8,
                  "maxLength": f.max_length if f.max_length is not None else 1024}
        return StorageType("String(255)", "str", schema)
    raise ValueError(f"not a scalar type: {t}")


def decimal_bounds(f: Field) -> dict[str, str]:
    """min/max of a decimal field as exact strings (a JSON Schema keyword cannot bound a string)."""
    out = {}
    if f.min is not None:
        out["minimum"] = str(f.min)
    if f.max is not None:
        out["maximum"] = str(f.max)
    return out
