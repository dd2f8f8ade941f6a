"""Pydantic v2 models: the list's query string, the request bodies and the responses.

Bodies are strict (no "5" for 5), reject unknown fields and take decimals as strings
with the column's digits; responses are read from the ORM rows (from_attributes) and
serialised by Pydantic's Rust core through FastAPI's response_model.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, StringConstraints

Category = Literal["tools", "garden", "kitchen"]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


def _no_nul(value: str) -> str:
    """PostgreSQL cannot store a NUL character and SQLite cuts text at one."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Name = Annotated[Text, StringConstraints(min_length=1, max_length=120)]
Sku = Annotated[str, StringConstraints(max_length=255, pattern=r"^[A-Z]{3}-[0-9]{4}$")]
_PRICE = re.compile(r"-?[0-9]{1,8}(\.[0-9]{1,2})?")


def _price(value: Any) -> decimal.Decimal:
    """numeric(10, 2), at least 0, sent as a string so no float ever rounds it."""
    if not isinstance(value, str):
        raise ValueError('a decimal must be sent as a string, e.g. "12.50"')
    if not _PRICE.fullmatch(value):
        raise ValueError("must be a decimal with at most 8 digits before the point and 2 after it")
    if (number := decimal.Decimal(value)) < 0:
        raise ValueError("must be at least 0")
    return number


def _whole(value: Any) -> Any:
    """JSON Schema counts 5.0 as an integer: take it as 5 (strict mode refuses "5" and 5.5)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Stock = Annotated[int, BeforeValidator(_whole), Field(ge=0, le=2**63 - 1)]
Price = Annotated[decimal.Decimal, BeforeValidator(_price)]


def _split(value: Any) -> Any:
    """`?stock__in=1,2`: FastAPI hands list-typed query fields over as lists of raw values."""
    values = value if isinstance(value, list) else [value]
    return [part for item in values for part in str(item).split(",")]


def csv(item: Any) -> Any:
    return Annotated[list[item], BeforeValidator(_split)]


def _as_utc(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)  # SQLite drops the zone


UtcDatetime = Annotated[datetime.datetime, AfterValidator(_as_utc)]


class ProductQuery(BaseModel):
    """The list's query string; unknown parameters are refused (extra="forbid")."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=200)
    sort: str = "-created_at,id"
    include: str | None = None
    cursor: str | None = None
    name: str | None = None
    name__in: csv(str) | None = None
    name__contains: str | None = None
    price: decimal.Decimal | None = None
    price__gt: decimal.Decimal | None = None
    price__gte: decimal.Decimal | None = None
    price__lt: decimal.Decimal | None = None
    price__lte: decimal.Decimal | None = None
    stock: Int64 | None = None
    stock__in: csv(Int64) | None = None
    stock__gt: Int64 | None = None
    stock__gte: Int64 | None = None
    stock__lt: Int64 | None = None
    stock__lte: Int64 | None = None
    category: str | None = None
    category__in: csv(str) | None = None
    available_from: datetime.date | None = None
    available_from__gt: datetime.date | None = None
    available_from__gte: datetime.date | None = None
    available_from__lt: datetime.date | None = None
    available_from__lte: datetime.date | None = None
    supplier_id: uuid.UUID | None = None
    supplier_id__in: csv(uuid.UUID) | None = None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ProductCreate(_Body):
    name: Name
    sku: Sku
    price: Price
    stock: Stock = 0
    category: Category = "tools"
    available_from: datetime.date | None = None
    supplier_id: uuid.UUID
    notes: Text | None = None
    attributes: JsonValue = None


class ProductUpdate(_Body):
    """Every field optional: only the fields sent are changed (model_fields_set)."""

    name: Name = None  # type: ignore[assignment]
    sku: Sku = None  # type: ignore[assignment]
    price: Price = None  # type: ignore[assignment]
    stock: Stock = None  # type: ignore[assignment]
    category: Category = None  # type: ignore[assignment]
    available_from: datetime.date | None = None
    supplier_id: uuid.UUID = None  # type: ignore[assignment]
    notes: Text | None = None
    attributes: JsonValue = None


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SupplierRead(_Read):
    id: uuid.UUID
    name: str
    slug: str
    email: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ProductRead(_Read):
    id: uuid.UUID
    name: str
    sku: str
    price: decimal.Decimal
    stock: int
    category: str
    available_from: datetime.date | None
    supplier_id: uuid.UUID
    notes: str | None
    attributes: JsonValue
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ProductWithSupplier(ProductRead):
    supplier: SupplierRead


class ProductPage(BaseModel):
    items: list[ProductWithSupplier | ProductRead]
    next_cursor: str | None
