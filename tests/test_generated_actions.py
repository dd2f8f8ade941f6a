"""Custom actions whose effects read the record, and actions nobody was given: a small spec here.

Regressions: an effect such as ``count: record.count + input.by`` used to generate code that
named an undefined ``record`` (a 500), and an action with no ``permission`` (K951 says "nobody
may do it") used to be open to everyone.
"""

from __future__ import annotations

import pytest

from tests.test_generated_api import pg_database, problem, serve  # noqa: F401 - pg_database is a fixture

SPEC = """\
keel: 1
app: {name: counters, title: Counters, version: "0.1.0"}
entities:
  Counter:
    fields:
      name: {type: string, max_length: 40}
      count: {type: integer, default: 0}
      other: {type: integer, default: 10}
      total: {type: decimal, precision: 10, scale: 2, default: 0}
    permissions: {all: "true"}
    actions:
      bump:
        permission: "true"
        input:
          by: {type: integer}
        effects:
          - set: {count: record.count + input.by, total: record.total + 1.5}
      swap:
        permission: "true"
        effects:
          - set: {count: record.other, other: record.count}
      locked:
        description: Declared without a permission, so nobody may do it.
        effects:
          - set: {count: "0"}
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request, tmp_path):
    spec = tmp_path / "counters"
    spec.mkdir()
    (spec / "keel.yaml").write_text(SPEC, encoding="utf-8")
    with serve(spec, tmp_path, request, request.param) as client:
        yield client


def test_effects_read_the_record_as_it_was_before_them(client):
    counter = client.post("/counters", json={"name": "a"}).json()
    bumped = client.post(f"/counters/{counter['id']}/bump", json={"by": 2})
    assert bumped.status_code == 200, bumped.text
    assert bumped.json()["count"] == 2 and bumped.json()["total"] == "1.50"
    again = client.post(f"/counters/{counter['id']}/bump", json={"by": 3}).json()
    assert again["count"] == 5 and again["total"] == "3.00"
    swapped = client.post(f"/counters/{counter['id']}/swap").json()
    assert (swapped["count"], swapped["other"]) == (10, 5)  # both read before either was set


def test_an_action_without_a_permission_is_refused_to_everyone(client):
    counter = client.post("/counters", json={"name": "a"}).json()
    client.post(f"/counters/{counter['id']}/bump", json={"by": 7})
    body = problem(client.post(f"/counters/{counter['id']}/locked"), 403, "forbidden")
    assert body["rule"] == "Counter.locked"
    assert client.get(f"/counters/{counter['id']}").json()["count"] == 7  # nothing happened
