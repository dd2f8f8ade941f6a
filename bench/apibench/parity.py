"""Do the generated app and the hand-written baseline answer alike? Checked before measuring.

A comparison of speed means something only between implementations that do the same
work, so both apps get the same sequence of requests (lists with filters, sort,
include and cursors; reads; valid and invalid creates and updates; If-Match; bad
parameters, bodies and ids), each on its own freshly seeded database of the same
backend, and their answers must match: status, content type, ETag, Location and the
JSON body. Generated values (ids, timestamps, cursors, request ids) and human-readable
text (`detail`, `message`) are masked before comparing.
"""

from __future__ import annotations

import re
from typing import Any

import httpx2

from apibench import seed, stack
from apibench.inprocess import served

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
TEXT_KEYS = {"detail", "message", "request_id"}
BAD_LIST_PARAMS = [{"limit": "1000000"}, {"limit": "0"}, {"sort": "sku"}, {"colour": "red"}, {"include": "owner"},
                   {"price__gte": "cheap"}, {"stock": "NaN"}, {"available_from__lt": "2024-13-45"},
                   {"cursor": "not-a-cursor"}]
GOOD = {"name": "Parity", "sku": "PAR-0001", "price": "12.50", "stock": 3, "category": "kitchen",
        "available_from": "2024-05-01", "notes": "n", "attributes": {"a": [1, 2]}}
BAD_BODIES = [{"sku": "BAD"}, {"price": 1.5}, {"price": "1.234"}, {"price": "-1.00"}, {"price": "NaN"},
              {"stock": "5"}, {"stock": 2**70}, {"colour": "red"}, {"id": "x"}, {"created_at": "x"},
              {"category": "toys"}, {"name": ""}, {"available_from": "2024-02-30"}, {"stock": 4.0},
              {"stock": 4.5}, {"notes": "a\u0000b"}, {"attributes": {"x": [1, {"y": None}]}}]


def mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<cursor>" if k == "next_cursor" and v else mask(v)) for k, v in value.items()
                if k not in TEXT_KEYS}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return TIME.sub("<time>", UUID.sub("<uuid>", value))
    return value


def answer(label: str, response: httpx2.Response) -> tuple:
    body = mask(response.json()) if response.content else None
    headers = tuple(mask(response.headers.get(h)) for h in ("content-type", "etag", "location"))
    return label, response.status_code, headers, body


async def transcript(client: httpx2.AsyncClient) -> list[tuple]:
    """The probe sequence; ids come from the app's own answers, so any seed will do."""
    out = []
    listed = {"category": "garden", "price__gte": "3", "sort": "-price", "include": "supplier", "limit": "3"}
    response = await client.get("/api/products", params=listed)
    out.append(answer("list", response))
    first = response.json()["items"][0]
    for page in range(2):
        response = await client.get("/api/products", params={**listed, "cursor": response.json()["next_cursor"]})
        out.append(answer(f"list page {page + 2}", response))
    for params in [{"limit": "5"}, {"stock__in": "31,62", "name__contains": "Product"},
                   {"sort": "available_from,-name", "limit": "4"}, *BAD_LIST_PARAMS]:
        out.append(answer(f"list {params}", await client.get("/api/products", params=params)))
    for suffix, params in [(first["id"], {}), (first["id"], {"include": "supplier"}), (first["id"], {"x": "1"}),
                           ("00000000-0000-4000-8000-000000000000", {}), ("not-a-uuid", {})]:
        out.append(answer(f"get {mask(suffix)} {params}", await client.get(f"/api/products/{suffix}", params=params)))
    good = {**GOOD, "supplier_id": first["supplier_id"]}
    response = await client.post("/api/products", json=good)
    out.append(answer("create", response))
    created = response.json()["id"]
    for change in BAD_BODIES:
        out.append(answer(f"create {change}", await client.post("/api/products", json={**good, **change})))
    nobody = "00000000-0000-4000-8000-000000000000"
    for label, body in [("unknown supplier", {**good, "sku": "PAR-0002", "supplier_id": nobody}),
                        ("taken sku", {**good, "name": "Other"}), ("taken name", {**good, "sku": "PAR-0003"})]:
        out.append(answer(f"create {label}", await client.post("/api/products", json=body)))
    for label, content, kind in [("malformed", b"{nope", "application/json"), ("text", b"name=x", "text/plain")]:
        out.append(answer(f"create {label}", await client.post("/api/products", content=content,
                                                               headers={"content-type": kind})))
    path = f"/api/products/{created}"
    for label, body, headers in [("update", {"price": "13.00"}, {"If-Match": '"v1"'}),
                                 ("stale", {"stock": 9}, {"If-Match": '"v1"'}), ("empty", {}, {}),
                                 ("bad", {"stock": -1}, {}), ("no etag", {"notes": None}, {})]:
        out.append(answer(f"patch {label}", await client.patch(path, json=body, headers=headers)))
    out.append(answer("patch unknown", await client.patch("/api/products/00000000-0000-4000-8000-000000000000",
                                                          json={"stock": 1})))
    out.append(answer("get updated", await client.get(path)))
    return out


async def check(backend: str) -> list[str]:
    """Differences between the two apps' transcripts on `backend` (empty: they answer alike)."""
    transcripts = {}
    for kind in ("generated", "baseline"):
        with stack.database(backend, f"parity_{kind}") as url:
            seed.seed(url, 0, 200)
            async with served(kind, url) as app:
                transcripts[kind] = await transcript(app.client)
    problems = []
    for mine, theirs in zip(transcripts["generated"], transcripts["baseline"]):
        if mine != theirs:
            problems.append(f"{mine[0]}:\n  generated {mine[1:]}\n  baseline  {theirs[1:]}")
    return problems
