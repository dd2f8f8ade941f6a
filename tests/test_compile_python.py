"""to_python: predicates over loaded values, checked against the reference interpreter.

The generated source is executed (it is Keel's output, not spec text) with ``record``,
``user`` and ``input`` bound to plain objects, over records full of missing values.
Anything that needs the database raises NotCompilable, so callers know to use to_sql.
"""

from __future__ import annotations

import datetime
import decimal
import textwrap
import types as pytypes
import uuid
from typing import Any

import black
import pytest

from generator.checks.expressions import SpecSchemaView
from generator.compile import NotCompilable, computed_from_spec, free_names, to_python
from generator.expr import Context, FieldInfo, check, parse
from generator.ir import build_ir
from generator.pipeline import validate_path
from tests.conftest import REPO
from tests.test_compile_reference import Ref, World
from tests.test_compile_sql import E_EMP1, E_MGR, TASK_USERS, expenses_rows, tasks_rows

TODAY = datetime.date(2026, 3, 10)
NOW = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.timezone.utc)

EVENTS = """\
keel: 1
app:
  name: events
  title: Events
  version: "1.0.0"
  description: Events with dates and prices.
auth:
  user: Member
  identity: email
  password: password
  roles: [admin, member]
  default_role: member
entities:
  Member:
    fields:
      email: {type: email, unique: true}
      password: {type: password, min_length: 12}
      nickname: string?
    permissions:
      all: user != null
      delete: user.role == 'admin'
  Event:
    fields:
      title: {type: string, min_length: 1}
      starts_on: date
      ends_on: date?
      capacity: integer?
      price: decimal?
      organizer: {type: ref, to: Member, required: false}
      kind: {type: enum, values: [talk, workshop]}
    computed:
      long:
        type: boolean
        expr: coalesce(record.ends_on, record.starts_on) - record.starts_on > 2
    invariants:
      ends_after_start:
        check: record.ends_on == null or record.ends_on >= record.starts_on
        message: An event cannot end before it starts.
      sensible_price:
        check: record.price == null or record.price * 2 > 10.5
        message: Too cheap.
    permissions:
      all: user != null
"""


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def _day(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


MEMBERS = {
    _id(1): {"email": "a@example.com", "nickname": "ann", "role": "admin"},
    _id(2): {"email": "b@example.com", "nickname": None, "role": "member"},
}
EVENT_ROWS = {
    _id(10): {"title": "Keynote", "starts_on": _day(1), "ends_on": _day(1), "capacity": 300,
              "price": decimal.Decimal("25.00"), "organizer": _id(1), "kind": "talk"},
    _id(11): {"title": "test", "starts_on": _day(-2), "ends_on": None, "capacity": None, "price": None,
              "organizer": None, "kind": "workshop"},
    _id(12): {"title": "Hackathon", "starts_on": _day(0), "ends_on": _day(3), "capacity": 8,
              "price": decimal.Decimal("5.25"), "organizer": _id(2), "kind": "workshop"},
    _id(13): {"title": "Backwards", "starts_on": _day(5), "ends_on": _day(4), "capacity": 10,
              "price": decimal.Decimal("4.99"), "organizer": _id(1), "kind": "talk"},
    _id(14): {"title": "Ox", "starts_on": _day(40), "ends_on": _day(80), "capacity": 0,
              "price": decimal.Decimal("0"), "organizer": None, "kind": "talk"},
}  # fmt: skip


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    root = tmp_path_factory.mktemp("events")
    (root / "keel.yaml").write_text(EVENTS, encoding="utf-8")
    result = validate_path(root)
    assert result.ok, result.diagnostics
    ir = build_ir(result.spec, result.source_map, result.root)
    world = World(result.spec, {"Member": MEMBERS, "Event": EVENT_ROWS}, TODAY, NOW)
    return result.spec, ir, world


def _attributes(spec, entity: str, ident, row: dict[str, Any]) -> pytypes.SimpleNamespace:
    """A loaded record: column attributes (a ref ``organizer`` is ``organizer_id``)."""
    out = {"id": ident}
    for key, value in row.items():
        f = spec.entity(entity).field(key)
        if f is not None and f.type == "ref":
            out[f"{key}_id"] = value
        elif f is None or f.type not in ("many", "has_many"):
            out[key] = value
    return pytypes.SimpleNamespace(**out)


def _compile(spec, ir, entity: str, text: str, *, user: bool = True, inputs=None) -> tuple[Any, str]:
    tree, errors = parse(text)
    assert not errors
    ctx = Context(record=entity, user=spec.auth.user.name if user else None, input=inputs)
    _, errors, types = check(tree, SpecSchemaView(spec), ctx)
    assert not errors, (text, errors)
    source = to_python(tree, types, ir, entity, user_entity=spec.auth.user.name, input_fields=inputs,
                       computed=computed_from_spec(spec))  # fmt: skip
    return tree, source


def _run(source: str, record, user, input_values=None) -> Any:
    namespace = {"decimal": decimal, "datetime": datetime, "_today": lambda: TODAY, "_utcnow": lambda: NOW,
                 "record": record, "user": user, "input": pytypes.SimpleNamespace(**(input_values or {}))}  # fmt: skip
    return eval(compile(source, "<keel>", "eval"), namespace)  # Keel's generated source, never spec text


EVENT_EXPRESSIONS = [
    "record.ends_on == null or record.ends_on >= record.starts_on",
    "record.price == null or record.price * 2 > 10.5",
    "len(record.title) >= 3 and lower(record.title) != 'test'",
    "record.capacity / 4 >= 2.5",
    "-record.capacity < -9",
    "record.capacity + 1 == coalesce(record.capacity, 0) + 1",
    "coalesce(record.ends_on, record.starts_on) - record.starts_on <= 30",
    "record.starts_on + days(1) > today()",
    "record.ends_on - days(1) >= record.starts_on",
    "record.long",
    "not record.long",
    "record.long == false",
    "record.kind in ['talk']",
    "record.kind not in ['talk', null]",
    "record.ends_on in [record.starts_on, null]",
    "record.organizer == user",
    "record.organizer != user",
    "record.organizer in [user, null]",
    "user.nickname == null",
    "user == null or user.nickname != 'ann'",
    "user.role == 'admin' or record.organizer == user",
    "(record.ends_on == null) == false",
    "not (record.ends_on < record.starts_on)",
    "record.price > 5 and record.price < 10.00",
]


@pytest.mark.parametrize("text", EVENT_EXPRESSIONS)
def test_event_predicates_match_the_reference(events, text):
    spec, ir, world = events
    tree, source = _compile(spec, ir, "Event", text)
    black.format_str(f"ok = {source}\n", mode=black.Mode())
    assert free_names(source) <= {"record", "user", "decimal", "datetime", "_today", "_utcnow", "len"}
    for ident, row in EVENT_ROWS.items():
        for uid in [None, *MEMBERS]:
            user = _attributes(spec, "Member", uid, MEMBERS[uid]) if uid else None
            got = _run(source, _attributes(spec, "Event", ident, row), user)
            expected = world.truth(tree, record=Ref("Event", ident), user=Ref("Member", uid) if uid else None)
            assert got is expected, (row["title"], uid, source)


def test_invariants_read_like_the_spec(events):
    spec, ir, _ = events
    assert _compile(spec, ir, "Event", "record.ends_on == null or record.ends_on >= record.starts_on", user=False)[1] \
        == "record.ends_on is None or record.ends_on >= record.starts_on"
    assert _compile(spec, ir, "Event", "record.price == null or record.price * 2 > 10.5", user=False)[1] \
        == "record.price is None or record.price * 2 > decimal.Decimal('10.5')"
    assert _compile(spec, ir, "Event", "user.role == 'admin'")[1] == "user is not None and user.role == 'admin'"
    assert _compile(spec, ir, "Event", "record.organizer == null")[1] == "record.organizer_id is None"


def test_values_compile_too(events):
    spec, ir, world = events
    tree, source = _compile(spec, ir, "Event", "coalesce(record.ends_on, record.starts_on) - record.starts_on")
    for ident, row in EVENT_ROWS.items():
        assert _run(source, _attributes(spec, "Event", ident, row), None) == world.evaluate(
            tree, record=Ref("Event", ident))


def test_input_values(events):
    spec, ir, world = events
    inputs = {"seats": FieldInfo("seats", "scalar", scalar="integer", nullable=True),
              "host": FieldInfo("host", "ref", target="Member", nullable=True)}  # fmt: skip
    for text in ["record.capacity >= input.seats", "input.seats == null or record.capacity < input.seats",
                 "record.organizer == input.host", "input.host != user"]:  # fmt: skip
        tree, source = _compile(spec, ir, "Event", text, inputs=inputs)
        for seats in (None, 0, 10):
            for host in (None, _id(1)):
                values = {"seats": seats, "host": host}
                refs = {"seats": seats, "host": Ref("Member", host) if host else None}
                for ident, row in EVENT_ROWS.items():
                    got = _run(source, _attributes(spec, "Event", ident, row), None, values)
                    assert got is world.truth(tree, record=Ref("Event", ident), input=refs), (text, values, source)


@pytest.fixture(scope="module")
def examples():
    out = {}
    for name, rows in (("tasks", tasks_rows()), ("expenses", expenses_rows())):
        result = validate_path(REPO / "specs" / name)
        out[name] = (result.spec, build_ir(result.spec, result.source_map, result.root),
                     World(result.spec, rows, TODAY, NOW))  # fmt: skip
    return out


@pytest.mark.parametrize("app,entity,text,user", [
    ("tasks", "Task", "record.assignee == user and record.status != 'done'", True),
    ("tasks", "Task", "record.due_date != null and record.due_date < today() and record.status != 'done'", True),
    ("tasks", "Task", "record.overdue or user.role == 'admin'", True),
    ("tasks", "Task", "user == record.created_by", True),
    ("expenses", "ExpenseLine", "record.spent_on <= today()", False),
    ("expenses", "ExpenseReport", "user == record.submitter and record.status == 'draft'", True),
    ("expenses", "ExpenseReport", "user != record.submitter", True),
    ("expenses", "Employee", "user == record or user.role == 'finance'", True),
    ("expenses", "Employee", "record.manager == user.manager", True),
])  # fmt: skip
def test_example_rules_without_relations(examples, app, entity, text, user):
    spec, ir, world = examples[app]
    tree, source = _compile(spec, ir, entity, text, user=user)
    user_entity = spec.auth.user.name
    users = TASK_USERS if app == "tasks" else [None, *world.rows[user_entity]]
    for ident, row in world.rows[entity].items():
        for uid in users if user else [None]:
            loaded = _attributes(spec, user_entity, uid, world.rows[user_entity][uid]) if uid else None
            got = _run(source, _attributes(spec, entity, ident, row), loaded)
            assert got is world.truth(tree, record=Ref(entity, ident), user=Ref(user_entity, uid) if uid else None)


@pytest.mark.parametrize("app,entity,text", [
    ("tasks", "Task", "record.assignee == null or record.assignee in record.project.members"),
    ("tasks", "Task", "user in record.project.members or user.role == 'admin'"),
    ("tasks", "Project", "count(record.members) > 1"),
    ("tasks", "Task", "record.project.owner == user"),
    ("expenses", "ExpenseReport", "record.total > 1000"),
    ("expenses", "ExpenseReport", "count(record.lines) > 0"),
    ("expenses", "ExpenseLine", "record.report.status == 'draft'"),
    ("expenses", "Employee", "user.manager.full_name == 'Mona'"),
])  # fmt: skip
def test_anything_needing_the_database_is_not_compilable(examples, app, entity, text):
    spec, ir, _ = examples[app]
    with pytest.raises(NotCompilable, match="needs the database: use to_sql") as caught:
        _compile(spec, ir, entity, text)
    assert caught.value.end > caught.value.start


def test_a_loaded_user_and_record_are_enough(examples):
    spec, ir, _ = examples["expenses"]
    _, source = _compile(spec, ir, "ExpenseReport", "user == record.submitter and record.status == 'draft'")
    assert source == "user is not None and user.id == record.submitter_id and record.status == 'draft'"
    report = pytypes.SimpleNamespace(id=_id(41), submitter_id=E_EMP1, status="draft")
    assert _run(source, report, pytypes.SimpleNamespace(id=E_EMP1)) is True
    assert _run(source, report, pytypes.SimpleNamespace(id=E_MGR)) is False
    assert _run(source, report, None) is False
    assert textwrap.dedent(source) == source
