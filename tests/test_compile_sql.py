"""to_sql: every rule of both example specs, run as one SQL statement on SQLite and PostgreSQL.

The generated models are rendered into a temporary directory, a small realistic dataset
is inserted, and for each expression and each user (anonymous, an admin, owners,
members, a non-member) the ids ``select(Model).where(<compiled>)`` returns are compared
with the reference interpreter (tests/test_compile_reference.py) run over the same data
held in dicts. PostgreSQL uses a scratch database per module at 127.0.0.1:5432; without a
server those tests are skipped (KEEL_REQUIRE_POSTGRES=1 turns that into a failure).
"""

from __future__ import annotations

import ast
import contextlib
import datetime
import decimal
import os
import types as pytypes
import uuid
from dataclasses import dataclass
from typing import Any

import black
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from generator.checks.expressions import SpecSchemaView
from generator.compile import NotCompilable, computed_from_spec, free_names, to_sql
from generator.expr import Context, FieldInfo, check, parse
from generator.ir import build_ir
from generator.pipeline import validate_path
from tests.conftest import REPO
from tests.generated_app import import_package_module, render_into
from tests.test_compile_reference import Ref, World

PG_ADMIN_URL = os.environ.get("KEEL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = datetime.date(2026, 3, 10)
NOW = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.timezone.utc)


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def _days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


# -- the datasets (plain dicts: the reference reads them, the database gets them) --------

U_ADMIN, U_ALICE, U_BOB, U_CAROL, U_DAVE = (_id(n) for n in range(1, 6))
P_APOLLO, P_ZEUS, P_HERMES = _id(11), _id(12), _id(13)


def tasks_rows() -> dict[str, dict[Any, dict[str, Any]]]:
    def user(name, role="member", active=True):
        return {"email": f"{name.lower()}@example.com", "name": name, "role": role, "active": active,
                "password_hash": "x"}  # fmt: skip

    def task(title, project, assignee, due, status, priority, created_by):
        return {"title": title, "project": project, "assignee": assignee, "due_date": due, "status": status,
                "priority": priority, "created_by": created_by, "description": None}  # fmt: skip

    return {
        "User": {U_ADMIN: user("Ada", "admin"), U_ALICE: user("Alice"), U_BOB: user("Bob"), U_CAROL: user("Carol"),
                 U_DAVE: user("Dave", active=False)},  # fmt: skip
        "Project": {
            P_APOLLO: {"name": "Apollo", "slug": "apollo", "description": "Moon", "owner": U_ALICE,
                       "members": [U_ALICE, U_BOB]},  # fmt: skip
            P_ZEUS: {"name": "Zeus", "slug": "zeus", "description": None, "owner": U_ADMIN,
                     "members": [U_ADMIN, U_DAVE]},  # fmt: skip
            P_HERMES: {"name": "Hermes", "slug": "hermes", "description": None, "owner": U_BOB, "members": []},
        },
        "Task": {
            _id(21): task("Launch", P_APOLLO, U_ALICE, _days(-1), "todo", "high", U_ALICE),
            _id(22): task("Land", P_APOLLO, None, None, "todo", "normal", U_BOB),
            _id(23): task("Orbit", P_APOLLO, U_BOB, _days(5), "in_progress", "urgent", U_ALICE),
            _id(24): task("Plan", P_APOLLO, U_ALICE, _days(-7), "done", "low", U_ALICE),
            _id(25): task("Thunder", P_ZEUS, U_ADMIN, TODAY, "todo", "normal", U_ADMIN),
            _id(26): task("Storm", P_ZEUS, None, _days(2), "todo", "urgent", U_DAVE),
            _id(27): task("Deliver", P_HERMES, U_CAROL, None, "in_progress", "high", U_BOB),  # carol is no member
            _id(28): task("Rain", P_ZEUS, U_DAVE, _days(-3), "done", "normal", U_ADMIN),
        },
    }


E_ADMIN, E_FIN, E_MGR, E_EMP1, E_EMP2, E_EMP3 = (_id(n) for n in range(31, 37))


def expenses_rows() -> dict[str, dict[Any, dict[str, Any]]]:
    def employee(name, role, manager=None, bank=None):
        return {"email": f"{name.lower()}@example.com", "full_name": name, "role": role, "manager": manager,
                "bank_account": bank, "active": True, "password_hash": "x"}  # fmt: skip

    def report(title, submitter, status, reason=None):
        return {"title": title, "submitter": submitter, "status": status, "currency": "EUR",
                "rejection_reason": reason}  # fmt: skip

    lines: dict[Any, dict[str, Any]] = {}

    def line(report_id, amount, category, spent):
        lines[_id(51 + len(lines))] = {"report": report_id, "amount": decimal.Decimal(amount), "category": category,
                                       "spent_on": spent, "description": category.title()}  # fmt: skip

    line(_id(41), "100.50", "travel", _days(-3))
    line(_id(41), "20.25", "meals", _days(-2))
    line(_id(42), "900.00", "lodging", _days(-20))
    line(_id(42), "300.00", "travel", _days(-19))
    line(_id(44), "5.00", "supplies", _days(2))  # in the future: breaks an invariant
    line(_id(45), "999.00", "lodging", _days(-1))
    line(_id(45), "0.50", "meals", _days(-1))
    line(_id(46), "1500.00", "other", _days(-40))
    return {
        "Employee": {
            E_ADMIN: employee("Root", "admin"),
            E_FIN: employee("Fiona", "finance", bank="DE89370400440532013000"),
            E_MGR: employee("Mona", "manager", manager=E_FIN),
            E_EMP1: employee("Emil", "employee", manager=E_MGR, bank="GB29NWBK60161331926819"),
            E_EMP2: employee("Erin", "employee", manager=E_MGR),
            E_EMP3: employee("Ezra", "employee"),
        },
        "ExpenseReport": {
            _id(41): report("Berlin trip", E_EMP1, "draft"),
            _id(42): report("Conference", E_EMP1, "submitted"),
            _id(43): report("Nothing yet", E_EMP2, "approved"),
            _id(44): report("Office", E_EMP3, "draft"),
            _id(45): report("Offsite", E_MGR, "submitted"),
            _id(46): report("Gadgets", E_EMP2, "rejected", "No receipts"),
        },
        "ExpenseLine": lines,
    }


SOCIAL = """\
keel: 1
app:
  name: social
  title: Social
  version: "1.0.0"
  description: People follow people and write posts; both are soft-deleted.
auth:
  user: Person
  identity: email
  password: password
  roles: [admin, member]
  default_role: member
entities:
  Person:
    soft_delete: true
    fields:
      email: {type: email, unique: true}
      password: {type: password, min_length: 12}
      name: string
      follows: {type: many, to: Person}
      followers: {type: many, to: Person, via: follows}
      posts: {type: has_many, to: Post, via: author}
    permissions:
      all: user != null or user.role == 'admin'
  Post:
    soft_delete: true
    fields:
      author: {type: ref, to: Person}
      title: string
    permissions:
      all: user != null or user.role == 'admin'
"""
S_ANN, S_BEN, S_CAT, S_DAN, S_EVE = (_id(n) for n in range(61, 66))
GONE = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def social_rows() -> dict[str, dict[Any, dict[str, Any]]]:
    def person(name, follows, role="member", deleted_at=None):
        return {"email": f"{name.lower()}@example.com", "name": name, "role": role, "password_hash": "x",
                "follows": follows, "deleted_at": deleted_at}  # fmt: skip

    def post(author, title, deleted_at=None):
        return {"author": author, "title": title, "deleted_at": deleted_at}

    return {
        "Person": {
            S_ANN: person("Ann", [S_BEN, S_CAT, S_DAN], role="admin"),
            S_BEN: person("Ben", [S_ANN, S_DAN]),
            S_CAT: person("Cat", []),
            S_DAN: person("Dan", [S_ANN], deleted_at=GONE),  # soft-deleted: no longer in anyone's lists
            S_EVE: person("Eve", [S_BEN, S_CAT]),
        },
        "Post": {
            _id(71): post(S_ANN, "Hello"),
            _id(72): post(S_ANN, "Draft", deleted_at=GONE),
            _id(73): post(S_BEN, "Hi"),
            _id(74): post(S_DAN, "Bye"),
            _id(75): post(S_EVE, "Yo", deleted_at=GONE),
        },
    }


# -- rendering, schema and data ---------------------------------------------------------


@dataclass
class App:
    name: str
    models: Any
    ir: Any
    spec: Any
    user_entity: str
    computed: dict
    world: World

    def columns(self, entity: str, row: dict[str, Any]) -> dict[str, Any]:
        """A dataset row as model column attributes (a ref ``project`` is ``project_id``)."""
        out = {"id": None}
        spec_entity = self.spec.entity(entity)
        for key, value in row.items():
            f = spec_entity.field(key)
            if f is not None and f.type == "ref":
                out[f"{key}_id"] = value
            elif f is None or f.type not in ("many", "has_many"):
                out[key] = value
        del out["id"]
        return out


def _build_app(name: str, out, rows, spec_dir=None) -> App:
    spec_dir = spec_dir or REPO / "specs" / name
    result = validate_path(spec_dir)
    assert result.ok
    render_into(spec_dir, out)
    models = import_package_module(out, f"{name}.models")
    ir = build_ir(result.spec, result.source_map, result.root)
    world = World(result.spec, rows, TODAY, NOW)
    return App(name, models, ir, result.spec, result.spec.auth.user.name, computed_from_spec(result.spec), world)


def _seed(app: App, engine) -> None:
    m = app.models
    with Session(engine) as session:
        for entity in [e.name for e in app.spec.entities]:
            rows = app.world.rows[entity]
            pending = dict(rows)
            while pending:  # self references (an employee's manager) go in after their target
                for ident, row in list(pending.items()):
                    cols = app.columns(entity, row)
                    refs = [v for k, v in cols.items() if k.endswith("_id") and v in pending and v != ident]
                    if refs:
                        continue
                    session.add(getattr(m, entity)(id=ident, **cols))
                    del pending[ident]
                session.flush()
        for entity in app.spec.entities:  # many-to-many rows, through the model's own relationship
            for f in entity.fields:
                if f.type != "many" or f.via is not None:
                    continue
                rel = sa.inspect(getattr(m, entity.name)).relationships[f.name]
                [(_, owner_col)], [(_, target_col)] = rel.synchronize_pairs, rel.secondary_synchronize_pairs
                for ident, row in app.world.rows[entity.name].items():
                    for target in row[f.name]:
                        session.execute(rel.secondary.insert().values({owner_col.name: ident, target_col.name: target}))
        session.commit()


def _sqlite_engine(path):
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _foreign_keys_on(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    social = tmp_path_factory.mktemp("social-spec")
    (social / "keel.yaml").write_text(SOCIAL, encoding="utf-8")
    return {
        "tasks": _build_app("tasks", tmp_path_factory.mktemp("tasks"), tasks_rows()),
        "expenses": _build_app("expenses", tmp_path_factory.mktemp("expenses"), expenses_rows()),
        "social": _build_app("social", tmp_path_factory.mktemp("social"), social_rows(), social),
    }


@pytest.fixture(scope="module")
def postgres_url():
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"keel_compile_{uuid.uuid4().hex[:10]}"
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        if os.environ.get("KEEL_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (KEEL_REQUIRE_POSTGRES) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request, apps, tmp_path_factory):
    """One engine per dialect with both apps' schemas and data."""
    if request.param == "sqlite":
        engine = _sqlite_engine(tmp_path_factory.mktemp("db") / "app.db")
    else:
        engine = sa.create_engine(request.getfixturevalue("postgres_url"))
    for app in apps.values():
        app.models.Base.metadata.create_all(engine)
        _seed(app, engine)
    yield engine
    engine.dispose()


# -- compiling, running and comparing ----------------------------------------------------


def _typed(app: App, entity: str, text: str, *, user: bool = True, inputs: dict[str, FieldInfo] | None = None):
    tree, errors = parse(text)
    assert not errors, errors
    ctx = Context(record=entity, user=app.user_entity if user else None, input=inputs)
    _, errors, types = check(tree, SpecSchemaView(app.spec), ctx)
    assert not errors, (text, errors)
    return tree, types


def _compile(app: App, entity: str, text: str, **kwargs) -> tuple[Any, str]:
    inputs = kwargs.pop("inputs", None)
    tree, types = _typed(app, entity, text, user=kwargs.pop("user", True), inputs=inputs)
    source = to_sql(tree, types, app.ir, entity, user_entity=app.user_entity, computed=app.computed,
                    input_fields=inputs, **kwargs)  # fmt: skip
    return tree, source


def _user_object(app: App, uid) -> Any:
    if uid is None:
        return None
    return pytypes.SimpleNamespace(id=uid, **app.columns(app.user_entity, app.world.rows[app.user_entity][uid]))


def _namespace(app: App, uid, input_values: dict[str, Any] | None = None) -> dict[str, Any]:
    ns = {k: v for k, v in vars(app.models).items() if not k.startswith("__")}
    ns.update(sa=sa, decimal=decimal, datetime=datetime, _today=lambda: TODAY, _utcnow=lambda: NOW,
              user=_user_object(app, uid), input=pytypes.SimpleNamespace(**(input_values or {})))  # fmt: skip
    return ns


@contextlib.contextmanager
def _statements(engine):
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def _run(engine, app: App, entity: str, source: str, uid, input_values=None) -> set:
    expr = eval(compile(source, "<keel>", "eval"), _namespace(app, uid, input_values))  # generated code only
    model = getattr(app.models, entity)
    with Session(engine) as session, _statements(engine) as seen:
        ids = {row.id for row in session.scalars(sa.select(model).where(expr))}
    assert len(seen) == 1, seen
    return ids


def _expected(app: App, entity: str, tree, uid, inputs=None) -> set:
    user = Ref(app.user_entity, uid) if uid is not None else None
    return {ident for ident in app.world.rows[entity]
            if app.world.truth(tree, record=Ref(entity, ident), user=user, input=inputs)}  # fmt: skip


def _spec_rules(spec) -> list[tuple[str, str, str, bool]]:
    """(entity, label, expression, may use user) for every boolean expression of a spec."""
    out = []
    for e in spec.entities:
        for op, rules in e.permissions.items():
            out += [(e.name, f"permission {op} #{i}", r.expr.text, True) for i, r in enumerate(rules.rules)]
        for f in e.fields:
            for kind, rules in (("read", f.access_read), ("write", f.access_write)):
                if rules is not None:
                    out += [(e.name, f"{f.name} {kind} access #{i}", r.expr.text, True)
                            for i, r in enumerate(rules.rules)]  # fmt: skip
        out += [(e.name, f"computed {c.name}", c.expr.text, True) for c in e.computed if c.type == "boolean"]
        out += [(e.name, f"invariant {i.name}", i.check.text, False) for i in e.invariants]
        out += [(e.name, f"query {q.name}", q.where.text, True) for q in e.queries]
        steps = [(a.name, a.permission, a.guard) for a in e.actions]
        if e.workflow is not None:
            steps += [(t.name, t.permission, t.guard) for t in e.workflow.transitions]
            for t in e.workflow.transitions:
                if t.approvals is not None:
                    out += [(e.name, f"{t.name} step {s.role.name} when", s.when.text, True)
                            for s in t.approvals.steps if s.when is not None]  # fmt: skip
        for name, permission, guard in steps:
            if permission is not None:
                out += [(e.name, f"{name} permission #{i}", r.expr.text, True) for i, r in enumerate(permission.rules)]
            if guard is not None:
                out += [(e.name, f"{name} guard", guard.text, True)]
    return out


def _cases() -> list:
    cases = []
    for app in ("tasks", "expenses"):
        spec = validate_path(REPO / "specs" / app).spec
        for entity, label, text, user in _spec_rules(spec):
            cases.append(pytest.param(app, entity, text, user, id=f"{app}-{entity}-{label}"))
    return cases


SPEC_CASES = _cases()

TASK_USERS = [None, U_ADMIN, U_ALICE, U_BOB, U_CAROL, U_DAVE]
EXPENSE_USERS = [None, E_ADMIN, E_FIN, E_MGR, E_EMP1, E_EMP2, E_EMP3]


SOCIAL_USERS = [None, S_ANN, S_BEN, S_CAT, S_DAN, S_EVE]


def _users(app: str) -> list:
    return {"tasks": TASK_USERS, "expenses": EXPENSE_USERS, "social": SOCIAL_USERS}[app]


def test_the_example_specs_have_many_rules():
    assert len(SPEC_CASES) >= 45
    texts = {p.values[2] for p in SPEC_CASES}
    assert "user in record.project.members or user == record.project.owner or user.role == 'admin'" in texts
    assert "record.assignee == user and record.status != 'done'" in texts
    assert ("record.assignee == null or record.assignee in record.project.members"
            " or record.assignee == record.project.owner") in texts


@pytest.mark.parametrize("app_name,entity,text,user", SPEC_CASES)
def test_spec_rules_filter_like_the_reference(db, apps, app_name, entity, text, user):
    app = apps[app_name]
    tree, source = _compile(app, entity, text, user=user)
    for uid in _users(app_name) if user else [None]:
        assert _run(db, app, entity, source, uid) == _expected(app, entity, tree, uid), (uid, source)


# Beyond the specs: every construct, nulls, aliases, arithmetic, functions.
EXTRA = {
    "tasks": [
        ("Task", "record.assignee != user"),
        ("Task", "record.assignee == null"),
        ("Task", "record.project.owner == user"),
        ("Task", "record.project.owner != user"),
        ("Task", "record.project.description == null"),
        ("Task", "record.project.description != 'Moon'"),
        ("Task", "not record.overdue"),
        ("Task", "record.overdue == false"),
        ("Task", "not (record.due_date < today())"),
        ("Task", "record.due_date < today() + days(3)"),
        ("Task", "record.due_date + days(3) <= today() + days(1)"),
        ("Task", "record.due_date - today() > 1"),
        ("Task", "today() - record.due_date >= 3"),
        ("Task", "days(1) + record.due_date == today()"),
        ("Task", "record.priority in ['high', 'urgent']"),
        ("Task", "record.priority not in ['high', 'urgent']"),
        ("Task", "record.assignee in [user, null]"),
        ("Task", "record.assignee not in [user, null]"),
        ("Task", "count(record.project.members) >= 2"),
        ("Task", "count(record.project.tasks) > 3 and record.status != 'done'"),
        ("Task", "max(record.project.tasks.due_date) > record.due_date"),
        ("Task", "min(record.project.tasks.due_date) == null"),
        ("Task", "record.created_by == record.project.owner"),
        ("Task", "record.assignee == record.project.owner"),
        ("Task", "record.assignee != record.project.owner"),
        ("Task", "record.assignee.active"),
        ("Task", "not record.assignee.active"),
        ("Task", "record.assignee.role == user.role"),
        ("Task", "lower(record.title) == 'launch' or len(record.title) > 5"),
        ("Task", "coalesce(record.due_date, today()) <= today()"),
        ("Task", "coalesce(record.assignee, record.created_by) == user"),
        ("Task", "user.active and user in record.project.members"),
        ("Task", "record in user.assigned_tasks"),
        ("Task", "count(user.assigned_tasks) > 1"),
        ("Task", "record.project in user.projects"),
        ("Task", "record.assignee in record.project.members and record.created_by in record.project.members"),
        ("Task", "(record.due_date == null) == (record.assignee == null)"),
        ("Project", "count(record.members) >= 2 or record.description != null"),
        ("Project", "record in user.projects"),
        ("Project", "user not in record.members"),
        ("Project", "count(record.tasks) - count(record.members) > 1"),
        ("Project", "max(record.tasks.due_date) > today()"),
        ("Project", "record.owner.active and record.owner in record.members"),
        ("Project", "count(record.owner.projects) >= 1"),
        ("User", "count(record.assigned_tasks) == 1"),
        ("User", "user == record or record in user.projects.members"),
        ("User", "-count(record.assigned_tasks) < -1"),
    ],
    "expenses": [
        ("ExpenseReport", "record.total > 1000"),
        ("ExpenseReport", "sum(record.lines.amount) / 2 >= 60.25"),
        ("ExpenseReport", "record.total * 2 > 2 * 1000 or count(record.lines) == 0"),
        ("ExpenseReport", "max(record.lines.amount) > 500 and min(record.lines.amount) < 100"),
        ("ExpenseReport", "record.submitter.manager == user"),
        ("ExpenseReport", "record.submitter.manager.manager == user"),
        ("ExpenseReport", "record.submitter.manager != null"),
        ("ExpenseReport", "record.rejection_reason != null"),
        ("ExpenseReport", "lower(coalesce(record.rejection_reason, 'none')) == 'none'"),
        ("ExpenseReport", "record in user.reports"),
        ("ExpenseReport", "record.status in ['submitted', 'approved'] and user.role != 'employee'"),
        ("ExpenseLine", "record.report.total > 1000"),
        ("ExpenseLine", "record.amount > record.report.total / 2"),
        ("ExpenseLine", "record.report.submitter.manager == user or record.report.submitter == user"),
        ("ExpenseLine", "record.spent_on > today() - days(5)"),
        ("ExpenseLine", "record.category == 'travel' or record.amount >= 999.00"),
        ("Employee", "record.manager.manager == user"),
        ("Employee", "record.manager == user.manager"),
        ("Employee", "user.manager.full_name == 'Mona'"),
        ("Employee", "record.manager.full_name != record.full_name"),
        ("Employee", "record.bank_account == null or user.role == 'finance'"),
        ("Employee", "count(record.reports) >= 2"),
        ("Employee", "sum(record.reports.lines.amount) > 1000"),
        ("Employee", "count(record.reports.lines) > 2"),
    ],
    "social": [  # a self-referential many-to-many (both sides), soft-deleted rows, aliased link tables
        ("Person", "user in record.followers"),
        ("Person", "user in record.follows"),
        ("Person", "record in user.follows"),
        ("Person", "count(record.follows) >= 2"),
        ("Person", "count(record.followers) == 0"),
        ("Person", "count(record.follows.follows) >= 2"),
        ("Person", "user in record.follows.followers"),
        ("Person", "record in user.followers.follows"),
        ("Person", "count(record.posts) >= 1"),
        ("Person", "record.name == 'Dan' or count(record.posts) == 0"),
        ("Person", "user.role == 'admin' or user in record.followers"),
        ("Post", "record.author in user.follows"),
        ("Post", "record.author == user or user in record.author.followers"),
        ("Post", "count(record.author.posts) == 0"),
        ("Post", "record.author.name != 'Dan'"),
    ],
}
EXTRA_CASES = [pytest.param(app, entity, text, id=f"{app}-{entity}-{text}") for app, rows in EXTRA.items()
               for entity, text in rows]  # fmt: skip


@pytest.mark.parametrize("app_name,entity,text", EXTRA_CASES)
def test_more_expressions_filter_like_the_reference(db, apps, app_name, entity, text):
    app = apps[app_name]
    tree, source = _compile(app, entity, text)
    for uid in _users(app_name):
        assert _run(db, app, entity, source, uid) == _expected(app, entity, tree, uid), (uid, source)


INPUT_FIELDS = {
    "assignee": FieldInfo("assignee", "ref", target="User", nullable=True),
    "due": FieldInfo("due", "scalar", scalar="date", nullable=True),
    "level": FieldInfo("level", "scalar", scalar="enum", enum_values=("low", "normal", "high", "urgent")),
}
INPUT_EXPRESSIONS = [
    "record.assignee == input.assignee",
    "record.assignee != input.assignee",
    "input.assignee in record.project.members",
    "input.assignee.active and record.status != 'done'",
    "record.due_date < input.due",
    "coalesce(input.due, today()) >= record.due_date",
    "record.priority == input.level or input.due == null",
]
INPUT_VALUES = [
    {"assignee": None, "due": None, "level": "high"},
    {"assignee": U_ALICE, "due": _days(1), "level": "normal"},
    {"assignee": U_DAVE, "due": TODAY, "level": "urgent"},
]


@pytest.mark.parametrize("text", INPUT_EXPRESSIONS)
def test_input_values_are_bound_in_python(db, apps, text):
    app = apps["tasks"]
    tree, source = _compile(app, "Task", text, inputs=INPUT_FIELDS)
    for values in INPUT_VALUES:
        refs = {**values, "assignee": Ref("User", values["assignee"]) if values["assignee"] else None}
        got = _run(db, app, "Task", source, U_ALICE, values)
        assert got == _expected(app, "Task", tree, U_ALICE, refs), (values, source)


@pytest.mark.parametrize("app_name,entity,name", [("tasks", "Task", "overdue"), ("expenses", "ExpenseReport", "total")])
def test_computed_fields_as_selected_values(db, apps, app_name, entity, name):
    app = apps[app_name]
    text = f"record.{name}"
    tree, source = _compile(app, entity, text, as_value=True)
    expr = eval(compile(source, "<keel>", "eval"), _namespace(app, None))
    model = getattr(app.models, entity)
    with Session(db) as session, _statements(db) as seen:
        got = dict(session.execute(sa.select(model.id, expr)).all())
    assert len(seen) == 1
    expected = {i: app.world.evaluate(tree, record=Ref(entity, i)) for i in app.world.rows[entity]}
    if name == "overdue":
        got = {k: bool(v) for k, v in got.items()}
    assert got == expected


# -- what the source looks like -------------------------------------------------------------

PINNED = [
    ("tasks", "Task", "user in record.project.members or user.role == 'admin'",
     "sa.or_((sa.exists().where(project_members.c.project_id == Task.project_id, project_members.c.user_id == "
     "user.id) if user is not None else sa.false()), (sa.true() if user is not None and user.role == 'admin' "
     "else sa.false()))"),
    ("tasks", "Task", "record.assignee == user and record.status != 'done'",
     "sa.and_((Task.assignee_id == user.id if user is not None else Task.assignee_id.is_(None)), "
     "Task.status != 'done')"),
    ("tasks", "Task", "record.overdue",
     "sa.and_(Task.due_date.is_not(None), Task.due_date < _today(), Task.status != 'done')"),
    ("tasks", "Task", "record.assignee != user",
     "(Task.assignee_id.is_distinct_from(user.id) if user is not None else Task.assignee_id.is_not(None))"),
    ("tasks", "Task", "record.project.owner == user",
     "(sa.exists().where(Project.id == Task.project_id, Project.owner_id == user.id) if user is not None "
     "else sa.false())"),
    ("tasks", "Task", "record.due_date + days(3) < today()",
     "Task.due_date < _today() - datetime.timedelta(days=3)"),
    ("tasks", "Project", "count(record.members) >= 2",
     "sa.select(sa.func.count(project_members.c.user_id)).where(project_members.c.project_id == Project.id)"
     ".scalar_subquery() >= 2"),
    ("expenses", "ExpenseReport", "record.total > 1000",
     "sa.func.coalesce(sa.select(sa.func.sum(ExpenseLine.amount)).where(ExpenseLine.report_id == "
     "ExpenseReport.id).scalar_subquery(), 0) > 1000"),
    ("expenses", "ExpenseReport", "user.role in ['manager', 'finance', 'admin']",
     "(sa.true() if user is not None and user.role in ('manager', 'finance', 'admin') else sa.false())"),
    ("expenses", "Employee", "record.manager.full_name != record.full_name",
     "(lambda employee_2: sa.not_(sa.exists().where(employee_2.id == Employee.manager_id, employee_2.full_name "
     "== Employee.full_name)))(sa.orm.aliased(Employee, name='employee_2'))"),
]  # fmt: skip


@pytest.mark.parametrize("app_name,entity,text,expected", PINNED, ids=[p[2] for p in PINNED])
def test_generated_source_is_what_a_reader_expects(apps, app_name, entity, text, expected):
    assert _compile(apps[app_name], entity, text)[1] == expected


def test_source_is_deterministic_valid_and_black_formattable(apps):
    for app_name, rows in EXTRA.items():
        app = apps[app_name]
        for entity, text in rows:
            first, second = _compile(app, entity, text)[1], _compile(app, entity, text)[1]
            assert first == second
            black.format_str(f"condition = {first}\n", mode=black.Mode())


def test_source_names_only_ir_identifiers_and_bound_values(apps):
    for app_name, rows in EXTRA.items():
        app = apps[app_name]
        allowed = ({e.name for e in app.ir.entities} | {t.name for t in app.ir.link_tables}
                   | {"sa", "datetime", "decimal", "user", "_today", "_utcnow"})  # fmt: skip
        for entity, text in rows:
            assert free_names(_compile(app, entity, text)[1]) <= allowed, text


def test_spec_text_only_appears_inside_string_literals(apps):
    app = apps["tasks"]
    hostile = "x') or __import__('os').system('echo pwned') or ('"
    tree, source = _compile(app, "Task", f'record.title == "{hostile}"')
    parsed = ast.parse(source, mode="eval")
    strings = [n.value for n in ast.walk(parsed) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert strings == [tree.right.value]
    assert not any(isinstance(n, ast.Call) and getattr(n.func, "id", "") == "__import__" for n in ast.walk(parsed))


@pytest.mark.parametrize("text", [
    "record.due_date - record.due_date > 1",  # date arithmetic between two columns
    "record.due_date + days(len(record.title)) > today()",
])  # fmt: skip
def test_date_arithmetic_on_columns_is_refused_clearly(apps, text):
    with pytest.raises(NotCompilable, match="date arithmetic|days"):
        _compile(apps["tasks"], "Task", text)


def test_a_missing_computed_expression_is_refused(apps):
    app = apps["tasks"]
    tree, types = _typed(app, "Task", "record.overdue")
    with pytest.raises(NotCompilable, match="computed"):
        to_sql(tree, types, app.ir, "Task", user_entity="User")
