"""Does the generated API stay fast as the table grows, and how many statements does a request run?

One database per backend grows from the smallest size to the largest (bulk-seeded,
see seed.py); at each size the generated app, served in this process, answers:

* latency, one request at a time (the median over a second or so): the load's list
  (filter, sort by price, include), the same list deep in the table (a cursor half-way
  down the prices: keyset pagination must make it cost what the first page costs), the
  list in its default order (newest first), and a read by id;
* SQL statements per request of every measured endpoint, for the generated app and
  the baseline, plus the supplier list with its products included (a one-to-many
  include: one statement more, whatever the page holds). Constant across sizes and
  pages, or there is an N+1.
"""

from __future__ import annotations

import base64
import itertools
import statistics
import time
from typing import Any

import orjson

from apibench import seed, stack, workloads
from apibench.inprocess import Served, served

FILTERED = workloads.LIST_QUERIES[0]  # category=garden, price >= 10, sort=-price, include=supplier, 20 a page
MIDDLE = "00000000-0000-0000-0000-000000000000"
_stock = itertools.count(1000)


def deep_cursor(sort: str, *values: str) -> str:
    """A cursor for the rows after `values` (the apps' documented cursor: base64url JSON [sort, values])."""
    return base64.urlsafe_b64encode(orjson.dumps([sort, [*values, MIDDLE]])).rstrip(b"=").decode()


def probes(product_id: str) -> dict[str, str]:
    return {
        "list filtered": FILTERED,
        "list filtered, deep page": FILTERED + "&cursor=" + deep_cursor("-price", "500.00"),
        "list default order": "/api/products?limit=20",
        "get": f"/api/products/{product_id}",
    }


async def latency(app: Served, path: str, budget: float) -> dict[str, Any]:
    """Median and max milliseconds of sequential requests: at least 5, then until `budget` seconds."""
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < 5 or (time.perf_counter() - started < budget and len(samples) < 200):
        begun = time.perf_counter()
        response = await app.client.get(path)
        samples.append((time.perf_counter() - begun) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"scale probe {path} answered {response.status_code}: {response.text[:300]}")
    return {"median_ms": statistics.median(samples), "max_ms": max(samples), "samples": len(samples)}


async def statements(app: Served, product_id: str, supplier_id: str, kind: str) -> dict[str, int]:
    """SQL statements sent for one request of each endpoint."""
    requests: dict[str, tuple[str, str, Any]] = {
        "list": ("GET", workloads.LIST_QUERIES[1].replace("&include=supplier", ""), None),
        "list + include": ("GET", workloads.LIST_QUERIES[1], None),
        "get": ("GET", f"/api/products/{product_id}", None),
        "get + include": ("GET", f"/api/products/{product_id}?include=supplier", None),
        "create": ("POST", "/api/products", _create_body(supplier_id)),
        "update": ("PATCH", f"/api/products/{product_id}", {"stock": next(_stock)}),  # a new value: a real UPDATE
    }
    if kind == "generated":
        requests["suppliers + include products"] = ("GET", "/api/suppliers?include=products&limit=20", None)
    counts = {}
    for name, (method, path, body) in requests.items():
        app.statements.take()
        response = await app.client.request(method, path, json=body)
        if response.status_code >= 300:
            raise SystemExit(f"{kind} {name} answered {response.status_code}: {response.text[:300]}")
        counts[name] = len(app.statements.take())
    return counts


def _create_body(supplier_id: str) -> dict:
    raw = next(workloads.requests("create", 1, [], [supplier_id]))
    return orjson.loads(raw.split(b"\r\n\r\n", 1)[1])


async def run(backend: str, sizes: list[int], budget: float, log: Any) -> list[dict]:
    rows = []
    with stack.database(backend, "scale") as url:
        have = 0
        for size in sizes:
            started = time.perf_counter()
            seed.seed(url, have, size)
            have = size
            log(f"  {backend}: {size:,} products seeded in {time.perf_counter() - started:.1f} s")
            [product_id] = seed.product_ids(url, 1)
            supplier_id = seed.supplier_ids(url)[0]
            row: dict[str, Any] = {"backend": backend, "rows": size, "latency": {}, "statements": {}}
            async with served("generated", url) as app:
                for name, path in probes(product_id).items():
                    await app.client.get(path)  # warm: connection, statement caches
                    row["latency"][name] = await latency(app, path, budget)
                row["statements"]["generated"] = await statements(app, product_id, supplier_id, "generated")
            async with served("baseline", url) as app:
                row["statements"]["baseline"] = await statements(app, product_id, supplier_id, "baseline")
            rows.append(row)
    return rows
