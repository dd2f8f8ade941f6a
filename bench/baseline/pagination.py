"""Sorting and keyset (cursor) pagination for the product list.

A cursor is the sort it was made for and the last row's sort-key values, base64url JSON;
the next page is the rows strictly after those values, so a page costs the same at
any depth (no OFFSET). The id always ends the sort, so the order is total. NULLs sort
last in both directions, written out in SQL, so SQLite and PostgreSQL agree; the first
sort key also gets a plain range condition, which its index can serve at any depth.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import uuid
from typing import Any

import orjson
from sqlalchemy import and_, or_, true

from baseline.errors import ApiError, invalid
from baseline.models import Product


def _datetime(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


# Sortable fields: name -> (column, nullable, parse a cursor value).
SORTABLE: dict[str, tuple[Any, bool, Any]] = {
    "name": (Product.name, False, str),
    "price": (Product.price, False, decimal.Decimal),
    "stock": (Product.stock, False, int),
    "available_from": (Product.available_from, True, datetime.date.fromisoformat),
    "created_at": (Product.created_at, False, _datetime),
    "id": (Product.id, False, uuid.UUID),
}


def sort_keys(text: str) -> list[tuple[str, bool]]:
    """`-price,name` -> [("price", True), ("name", False), ("id", False)]."""
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        name = part.removeprefix("-")
        if name not in SORTABLE or any(name == seen for seen, _ in keys):
            raise invalid("sort", f"cannot sort by {name!r}; sortable: {', '.join(sorted(SORTABLE))}",
                          "invalid_sort")
        keys.append((name, part.startswith("-")))
    if keys[-1][0] != "id":
        keys.append(("id", False))
    return keys


def order_by(keys: list[tuple[str, bool]]) -> list[Any]:
    """NULLS LAST where there can be NULLs (elsewhere it would stop PostgreSQL reading an index backwards)."""
    clauses = []
    for name, desc in keys:
        column, nullable, _ = SORTABLE[name]
        clause = column.desc() if desc else column.asc()
        clauses.append(clause.nulls_last() if nullable else clause)
    return clauses


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)  # SQLite drops the zone
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value) if isinstance(value, (uuid.UUID, decimal.Decimal)) else value


def encode(sort: str, row: Product, keys: list[tuple[str, bool]]) -> str:
    raw = orjson.dumps([sort, [_plain(getattr(row, name)) for name, _ in keys]])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def after(cursor: str, sort: str, keys: list[tuple[str, bool]]) -> Any:
    """The WHERE clause for the rows after the cursor's; a cursor of another sort is a 400."""
    try:
        made_for, raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if made_for != sort or len(raw) != len(keys):
            raise ValueError
        values = [None if v is None else SORTABLE[name][2](v) for (name, _), v in zip(keys, raw)]
    except (ValueError, TypeError, decimal.InvalidOperation):  # binascii.Error and JSONDecodeError are ValueErrors
        raise ApiError(400, "bad_cursor", "The cursor is not valid for this list and sort order.") from None
    clauses, equal = [], []
    for (name, desc), value in zip(keys, values):
        column, nullable, _ = SORTABLE[name]
        if value is None:  # after a NULL come only more NULLs (NULLS LAST), matched by equality
            equal.append(column.is_(None))
            continue
        beyond = column < value if desc else column > value
        clauses.append(and_(*equal, or_(beyond, column.is_(None)) if nullable else beyond))
        equal.append(column == value)
    where = or_(*clauses) if clauses else true()
    (first, desc), value = keys[0], values[0]
    if value is not None and not SORTABLE[first][1]:  # a range on the first key alone, for its index
        where = and_(SORTABLE[first][0] <= value if desc else SORTABLE[first][0] >= value, where)
    return where
