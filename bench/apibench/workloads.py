"""The requests of each measured endpoint, built once and replayed by the load generator.

Both apps get byte-for-byte the same requests, in the same order, written to a file
as raw HTTP/1.1 (each preceded by its length on a line of its own) that wrk's Lua
script or the Python client replays, cycling when it reaches the end:

* list: GET /api/products filtered (a category and a price floor), sorted by price
  descending, with the supplier included, 20 a page; a few variants in turn.
* get: GET /api/products/{id} over seeded ids.
* create: POST /api/products, every body a new SKU and name (never a 409), numbered
  from a counter that lives for the whole run, so no two runs send the same SKU.
* update: PATCH /api/products/{id} of stock and price, over seeded ids (thousands, so
  no two connections ever update the same row at once and no 412 can happen); the
  values come from a counter too, so every PATCH really changes its row (SQLAlchemy
  sends no UPDATE for a PATCH that changes nothing).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import orjson

ENDPOINTS = ("list", "get", "create", "update")
LIST_QUERIES = [f"/api/products?category={category}&price__gte={floor}&sort=-price&include=supplier&limit=20"
                for category, floor in itertools.product(("garden", "tools", "kitchen"), ("10", "250.50"))]
_FIRST_CREATED = 25 * 26 * 26 * 10_000  # SKUs from ZAA-0000 on; seeded SKUs start with A (below 6.76 million rows)
_created = itertools.count(_FIRST_CREATED)
_updated = itertools.count()


def raw(method: str, path: str, body: dict | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    data = b""
    if body is not None:
        data = orjson.dumps(body)
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _sku(number: int) -> str:
    prefix, digits = divmod(number, 10_000)
    letters = "".join(chr(65 + (prefix // 26**p) % 26) for p in (2, 1, 0))
    return f"{letters}-{digits:04d}"


def requests(endpoint: str, count: int, product_ids: list[str], supplier_ids: list[str]) -> Iterator[bytes]:
    """`count` requests of one endpoint (creates: `count` new products, never sent before)."""
    for i in range(count):
        if endpoint == "list":
            yield raw("GET", LIST_QUERIES[i % len(LIST_QUERIES)])
        elif endpoint == "get":
            yield raw("GET", f"/api/products/{product_ids[i % len(product_ids)]}")
        elif endpoint == "create":
            n = next(_created)
            yield raw("POST", "/api/products", {
                "name": f"Load {n}", "sku": _sku(n), "price": f"{n % 1000}.99", "stock": n % 50,
                "category": "garden", "supplier_id": supplier_ids[n % len(supplier_ids)],
                "attributes": {"colour": "green"},
            })
        elif endpoint == "update":
            n = next(_updated)
            yield raw("PATCH", f"/api/products/{product_ids[n % len(product_ids)]}",
                      {"stock": n // len(product_ids) % 1_000_000, "price": f"{n % 1000}.{n % 100:02d}"})
        else:
            raise ValueError(endpoint)


def write(path: Path, items: Iterator[bytes]) -> Path:
    with open(path, "wb") as out:
        for item in items:
            out.write(b"%d\n" % len(item) + item)
    return path


def read(path: Path) -> list[bytes]:
    data, items, position = path.read_bytes(), [], 0
    while position < len(data):
        newline = data.index(b"\n", position)
        length = int(data[position:newline])
        items.append(data[newline + 1 : newline + 1 + length])
        position = newline + 1 + length
    return items
