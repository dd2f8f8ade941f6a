"""Computed fields in a generated app, over HTTP, on SQLite and PostgreSQL.

Selected in SQL with their row (an aggregate over a relation, a condition on today's
date), rounded the declared way on the wire, and usable in filters, sorts and keyset
pagination like stored fields.
"""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.generated_app import import_package_module, render_into
from tests.test_generated_auth import new_database, pg_admin  # noqa: F401 - fixtures

SHOP_SPEC = """\
keel: 1
app: {name: shop, title: Shop, version: "0.1.0"}
api: {prefix: /api}
entities:
  Order:
    permissions: {all: true}
    fields:
      reference: {type: string, unique: true}
      due: date?
      lines: {type: has_many, to: Line, via: order}  # `order` is reserved in SQL, `order_id` is not
    computed:
      total:
        type: decimal
        precision: 12
        scale: 1
        rounding: half_up
        expr: sum(record.lines.amount)
      big:
        type: boolean
        expr: record.total > 100
      late:
        type: boolean
        expr: record.due != null and record.due < today()
    filters: [total, big, late]
    sort: [total, reference]
  Line:
    permissions: {all: true}
    fields:
      order: {type: ref, to: Order}
      amount: {type: decimal, precision: 10, scale: 2}
"""


@pytest.fixture
def shop(tmp_path, new_database):
    spec = tmp_path / "shop_spec"
    spec.mkdir()
    (spec / "keel.yaml").write_text(SHOP_SPEC, encoding="utf-8")
    out = tmp_path / "out"
    render_into(spec, out)
    url = new_database()
    models = import_package_module(out, "shop.models")
    settings = import_package_module(out, "shop.settings", fresh=False).load_settings({"DATABASE_URL": url})
    app = import_package_module(out, "shop.app", fresh=False).create_app(settings)
    engine = sa.create_engine(url)
    models.Base.metadata.create_all(engine)
    engine.dispose()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _order(client, reference: str, amounts: list[str], due: datetime.date | None = None) -> dict:
    created = client.post("/api/orders", json={"reference": reference, "due": due and due.isoformat()})
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["total"] == "0.0" and order["big"] is False  # computed for the new row too
    for amount in amounts:
        line = client.post("/api/lines", json={"order_id": order["id"], "amount": amount})
        assert line.status_code == 201, line.text
    return client.get(f"/api/orders/{order['id']}").json()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_computed_values_are_exact_rounded_filterable_and_sortable(shop):
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    a = _order(shop, "A", ["60.05", "40.00"], due=yesterday)  # 100.05 -> 100.1 (half up); big
    b = _order(shop, "B", ["10.04"])  # 10.04 -> 10.0
    c = _order(shop, "C", ["99.95", "0.05"])  # exactly 100.00: not big
    assert (a["total"], a["big"], a["late"]) == ("100.1", True, True)
    assert (b["total"], b["big"], b["late"]) == ("10.0", False, False)
    assert (c["total"], c["big"]) == ("100.0", False)

    def refs(query: str) -> list[str]:
        response = shop.get(f"/api/orders?{query}")
        assert response.status_code == 200, response.text
        return [o["reference"] for o in response.json()["items"]]

    assert refs("big=true") == ["A"]
    assert refs("late=true") == ["A"]
    assert refs("total__gt=100&sort=reference") == ["A"]  # the exact 100.05, not the rounded value
    assert refs("total__gte=100&sort=reference") == ["A", "C"]
    assert refs("sort=-total") == ["A", "C", "B"]
    # Keyset pagination through a computed sort key.
    first = shop.get("/api/orders?sort=total&limit=2").json()
    assert [o["reference"] for o in first["items"]] == ["B", "C"]
    rest = shop.get(f"/api/orders?sort=total&limit=2&cursor={first['next_cursor']}").json()
    assert [o["reference"] for o in rest["items"]] == ["A"] and rest["next_cursor"] is None
    # Bad filter values are 4xx, never 500.
    assert shop.get("/api/orders?total__gt=lots").status_code == 422
    # Computed fields are read-only.
    refused = shop.patch(f"/api/orders/{a['id']}", json={"total": "1.0"})
    assert refused.status_code == 422, refused.text
    # An update answers with the values recomputed.
    moved = shop.patch(f"/api/orders/{a['id']}", json={"due": None})
    assert moved.status_code == 200 and moved.json()["late"] is False
