"""Invariants: as CHECK constraints where SQL keeps their meaning, else checked by the app.

Two parts. First, the CHECK compiler's meaning against the reference interpreter
(tests/test_compile_reference.py) on SQLite and PostgreSQL, over a grid of rows full
of nulls: a CHECK rejects a row exactly when the language says the invariant is false.
Second, a generated app over HTTP: each tier (database CHECK, Python on the row, SQL
against the written row) answers 422 naming the invariant and writes nothing.
"""

from __future__ import annotations

import datetime
import itertools
import os
import uuid

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from generator.ir import build_ir
from generator.pipeline import validate_path
from tests.generated_app import import_package_module, render_into
from tests.test_compile_reference import Ref, World
from tests.test_generated_auth import new_database, pg_admin  # noqa: F401 - fixtures

from generator.expr import parse

BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])

# Each compiles to a CHECK; the grid below exercises every null case of each.
CHECKABLE = [
    "record.a == null or record.a >= record.b",
    "record.a != 3",
    "not (record.a < 5)",
    "record.kind in ['x', 'y']",
    "record.kind not in ['x']",
    "record.a + record.b > 2",
    "record.d1 == null or record.d2 == null or record.d1 <= record.d2",
    "record.d1 <= record.d2",
    "not (record.a > 1 and record.b < 3) or record.kind == 'x'",
    "record.c * 2 >= record.a",
    "record.c - record.a != 0 and -record.c < 0",
    "record.a > 2.5",
]
# Each needs the app: two nullable sides of ==, a function, a relation, a boolean.
NOT_CHECKABLE = {
    "record.a == record.b": "python",
    "record.d1 <= today()": "python",
    "record.flag == true": "python",
    "record.c <= record.parent.c": "sql",
}


def _semantics_spec(directory) -> None:
    entities = []
    for i, text in enumerate([*CHECKABLE, *NOT_CHECKABLE]):
        entities.append(f"""\
  S{i}:
    permissions: {{all: true}}
    fields:
      a: integer?
      b: integer?
      c: integer
      kind: {{type: enum, values: [x, y, z], required: false}}
      d1: date?
      d2: date?
      flag: boolean?
      parent: {{type: ref, to: S{i}, required: false}}
    invariants:
      holds:
        check: "{text}"
        message: Broken.
""")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "keel.yaml").write_text("keel: 1\napp: {name: semantics}\nentities:\n" + "".join(entities))


@pytest.fixture(scope="module")
def semantics(tmp_path_factory):
    directory = tmp_path_factory.mktemp("semantics")
    _semantics_spec(directory)
    result = validate_path(directory)
    assert result.ok, result.diagnostics
    return result.spec, build_ir(result.spec, result.source_map, result.root)


def test_each_invariant_is_enforced_by_the_cheapest_exact_tier(semantics):
    _, ir = semantics
    by_text = {inv.text: inv for e in ir.entities for inv in e.invariants}
    for text in CHECKABLE:
        assert by_text[text].constraint is not None, text
        assert by_text[text].python is None and by_text[text].sql is None
    for text, tier in NOT_CHECKABLE.items():
        inv = by_text[text]
        assert inv.constraint is None, text
        assert (inv.python is not None, inv.sql is not None) == (tier == "python", tier == "sql"), text


GRID = list(itertools.product(
    [None, 0, 3, 7],  # a
    [None, 0, 3],  # b
    [None, "x", "z"],  # kind
    [None, datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)],  # d1
    [None, datetime.date(2026, 1, 15)],  # d2
))


@BACKENDS
def test_a_check_rejects_exactly_the_rows_the_language_says_break_it(semantics, new_database):
    spec, ir = semantics
    engine = sa.create_engine(new_database())
    metadata = sa.MetaData()
    table = sa.Table("sample", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("a", sa.Integer), sa.Column("b", sa.Integer), sa.Column("c", sa.Integer),
                     sa.Column("kind", sa.String(10)), sa.Column("d1", sa.Date), sa.Column("d2", sa.Date))
    metadata.create_all(engine)
    rows = {i: {"a": a, "b": b, "c": 1, "kind": kind, "d1": d1, "d2": d2}
            for i, (a, b, kind, d1, d2) in enumerate(GRID)}
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": i, **row} for i, row in rows.items()])
    try:
        for i, text in enumerate(CHECKABLE):
            entity = f"S{i}"
            check = next(e for e in ir.entities if e.name == entity).invariants[0]
            sql = next(c.sql for c in next(e for e in ir.entities if e.name == entity).checks
                       if c.name == check.constraint)
            # A CHECK fails on FALSE only (NULL passes): the rows it rejects.
            with engine.connect() as conn:
                rejected = set(conn.execute(sa.text(f"SELECT id FROM sample WHERE NOT ({sql})")).scalars())
            world = World(spec, {entity: {i: {**row, "parent": None} for i, row in rows.items()}},
                          datetime.date(2026, 1, 10), datetime.datetime(2026, 1, 10, 12))
            tree, errors = parse(text)
            assert not errors
            expected = {j for j in rows if world.evaluate(tree, record=Ref(entity, j)) is not True}
            assert rejected == expected, (text, sql, sorted(rejected ^ expected)[:5])
    finally:
        engine.dispose()


# --- through the generated app ------------------------------------------------------------------

EVENTS_SPEC = """\
keel: 1
app: {name: events, title: Events, version: "0.1.0"}
api: {prefix: /api}
entities:
  Venue:
    permissions: {all: true}
    fields:
      name: string
      capacity: {type: integer, min: 1}
      events: {type: has_many, to: Event, via: venue}
  Event:
    permissions: {all: true}
    fields:
      title: string
      starts_on: date
      ends_on: date?
      seats: {type: integer, min: 0}
      price: {type: decimal, precision: 8, scale: 2, min: 0}
      kind: {type: enum, values: [talk, workshop, party]}
      venue: {type: ref, to: Venue}
    invariants:
      ends_after_start:
        check: record.ends_on == null or record.ends_on >= record.starts_on
        message: An event cannot end before it starts.
      workshops_are_paid:
        check: record.kind != 'workshop' or record.price > 0
        message: Workshops have a price.
      not_in_the_past:
        check: record.starts_on >= today()
        message: An event starts today or later.
      fits_the_venue:
        check: record.seats <= record.venue.capacity
        message: An event cannot have more seats than its venue.
"""


@pytest.fixture
def events(tmp_path, new_database):
    spec = tmp_path / "events_spec"
    spec.mkdir()
    (spec / "keel.yaml").write_text(EVENTS_SPEC, encoding="utf-8")
    out = tmp_path / "out"
    render_into(spec, out)
    url = new_database()
    models = import_package_module(out, "events.models")
    settings = import_package_module(out, "events.settings", fresh=False).load_settings({"DATABASE_URL": url})
    app = import_package_module(out, "events.app", fresh=False).create_app(settings)
    engine = sa.create_engine(url)
    models.Base.metadata.create_all(engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, engine, models
    engine.dispose()


def _broken(response, rule: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invariant_violated" and body["rule"] == rule, body


@BACKENDS
def test_every_tier_answers_422_naming_the_invariant_and_writes_nothing(events):
    client, engine, models = events
    venue = client.post("/api/venues", json={"name": "Hall", "capacity": 50}).json()
    soon = datetime.date.today() + datetime.timedelta(days=7)
    good = {"title": "Keel 1.0", "starts_on": soon.isoformat(), "ends_on": None, "seats": 40,
            "price": "0.00", "kind": "talk", "venue_id": venue["id"]}
    cases = [
        ("ends_after_start", {"ends_on": (soon - datetime.timedelta(days=1)).isoformat()}),  # CHECK
        ("workshops_are_paid", {"kind": "workshop"}),  # CHECK
        ("not_in_the_past", {"starts_on": "2020-01-01"}),  # Python, before the write
        ("fits_the_venue", {"seats": 51}),  # SQL, against the written row
    ]
    for rule, change in cases:
        _broken(client.post("/api/events", json={**good, **change}), rule)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(models.Event.__table__)).scalar() == 0

    created = client.post("/api/events", json=good)
    assert created.status_code == 201, created.text
    event = created.json()
    for rule, change in cases:
        _broken(client.patch(f"/api/events/{event['id']}", json=change), rule)
    assert client.get(f"/api/events/{event['id']}").json() == event  # unchanged, same version
    ok = client.patch(f"/api/events/{event['id']}", json={"kind": "workshop", "price": "25.00"})
    assert ok.status_code == 200, ok.text


@BACKENDS
def test_the_database_itself_refuses_a_row_that_breaks_a_checkable_invariant(events):
    client, engine, models = events
    venue = client.post("/api/venues", json={"name": "Hall", "capacity": 50}).json()
    row = {"id": uuid.uuid4(), "title": "Direct", "starts_on": datetime.date(2030, 1, 2),
           "ends_on": datetime.date(2030, 1, 1), "seats": 1, "price": 1, "kind": "talk",
           "venue_id": uuid.UUID(venue["id"])}
    with pytest.raises(sa.exc.IntegrityError) as raised, engine.begin() as conn:
        conn.execute(sa.insert(models.Event.__table__).values(**row))
    assert "ends_after_start" in str(raised.value)
