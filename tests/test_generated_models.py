"""The generated SQLAlchemy models create real schemas that enforce the spec, on SQLite and PostgreSQL.

PostgreSQL tests use the server at 127.0.0.1:5432 (a scratch database per run). On a
machine without it they are skipped with a visible reason; CI sets
KEEL_REQUIRE_POSTGRES=1, which turns an unreachable server into a failure.
"""

from __future__ import annotations

import datetime
import decimal
import os
import uuid

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tests.conftest import REPO
from tests.generated_app import import_package_module, render_into

PG_ADMIN_URL = os.environ.get("KEEL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _sqlite_engine(path):
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _foreign_keys_on(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine


@pytest.fixture(scope="module")
def postgres_url():
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"keel_models_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        if os.environ.get("KEEL_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (KEEL_REQUIRE_POSTGRES) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_for(request, tmp_path):
    created = []

    def make(models):
        if request.param == "sqlite":
            engine = _sqlite_engine(tmp_path / "app.db")
        else:
            engine = create_engine(request.getfixturevalue("postgres_url"))
            models.Base.metadata.drop_all(engine)
        models.Base.metadata.create_all(engine)
        created.append((engine, models))
        return engine

    yield make
    for engine, models in created:
        if engine.dialect.name == "postgresql":
            models.Base.metadata.drop_all(engine)
        engine.dispose()


def tasks_models(tmp_path):
    render_into(REPO / "specs/tasks", tmp_path / "out")
    return import_package_module(tmp_path / "out", "tasks.models")


def expenses_models(tmp_path):
    render_into(REPO / "specs/expenses", tmp_path / "out")
    return import_package_module(tmp_path / "out", "expenses.models")


def test_tables_columns_and_indexes_match_the_spec(tmp_path, engine_for):
    m = tasks_models(tmp_path)
    engine = engine_for(m)
    insp = inspect(engine)
    # The spec's own tables, then the app's: sign-in throttling, the notification outbox (tasks notify on
    # assignment) and idempotency keys (tasks have transitions and actions).
    assert set(insp.get_table_names()) == {"users", "projects", "tasks", "project_members", "auth_login_failures",
                                           "notification_outbox", "idempotency_keys"}
    columns = {c["name"]: c for c in insp.get_columns("tasks")}
    assert {"id", "title", "project_id", "assignee_id", "due_date", "priority", "status", "lock_version"} <= set(columns)
    assert columns["assignee_id"]["nullable"] and not columns["title"]["nullable"]
    fks = {fk["constrained_columns"][0]: fk for fk in insp.get_foreign_keys("tasks")}
    assert fks["project_id"]["options"].get("ondelete") == "CASCADE"
    assert fks["assignee_id"]["options"].get("ondelete") == "SET NULL"
    indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes("tasks")}
    assert {("project_id",), ("assignee_id",), ("due_date",), ("project_id", "status")} <= indexed


def _seed_tasks(m, session):
    owner = m.User(email="owner@example.com", name="Owner", password_hash="x")
    session.add(owner)
    session.flush()
    project = m.Project(name="Apollo", slug="apollo", owner_id=owner.id)
    session.add(project)
    session.flush()
    task = m.Task(title="Launch", project_id=project.id, created_by_id=owner.id, assignee_id=owner.id)
    session.add(task)
    session.flush()
    return owner, project, task


def test_defaults_and_server_values(tmp_path, engine_for):
    m = tasks_models(tmp_path)
    with Session(engine_for(m)) as session:
        owner, project, task = _seed_tasks(m, session)
        session.commit()
        assert (task.priority, task.status, task.lock_version, owner.role, owner.active) == (
            "normal", "todo", 1, "member", True)
        assert isinstance(task.id, uuid.UUID) and task.created_at is not None


@pytest.mark.parametrize("field,value", [("priority", "bogus"), ("status", "archived"), ("title", "")])
def test_check_constraints_reject_values_outside_the_spec(tmp_path, engine_for, field, value):
    m = tasks_models(tmp_path)
    with Session(engine_for(m)) as session:
        _, _, task = _seed_tasks(m, session)
        session.commit()
        setattr(task, field, value)
        with pytest.raises(IntegrityError):
            session.commit()


def test_on_delete_cascade_and_restrict(tmp_path, engine_for):
    m = tasks_models(tmp_path)
    engine = engine_for(m)
    with Session(engine) as session:
        owner, project, task = _seed_tasks(m, session)
        session.commit()
        project_id, owner_id = project.id, owner.id
    with engine.begin() as conn:  # cascade: deleting the project deletes its tasks
        conn.execute(text("DELETE FROM projects WHERE id = :id"), {"id": _db_id(engine, project_id)})
        assert conn.execute(text("SELECT count(*) FROM tasks")).scalar() == 0
    with pytest.raises(IntegrityError), engine.begin() as conn:  # restrict: an owner of a project stays
        m2 = m.Project.__table__
        conn.execute(m2.insert().values(id=uuid.uuid4(), name="B", slug="b", owner_id=owner_id, lock_version=1))
        conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": _db_id(engine, owner_id)})


def _db_id(engine, value: uuid.UUID):
    """SQLite stores Uuid() as 32 hex characters; PostgreSQL has a native uuid type."""
    return value.hex if engine.dialect.name == "sqlite" else value


def test_optimistic_concurrency_rejects_a_stale_write(tmp_path, engine_for):
    m = tasks_models(tmp_path)
    engine = engine_for(m)
    with Session(engine) as session:
        _, _, task = _seed_tasks(m, session)
        session.commit()
        task_id = task.id
    with Session(engine) as first, Session(engine) as second:
        a = first.get(m.Task, task_id)
        b = second.get(m.Task, task_id)
        a.title = "First"
        first.commit()
        b.title = "Second"
        with pytest.raises(StaleDataError):
            second.commit()


def test_decimals_are_exact_and_bounded(tmp_path, engine_for):
    m = expenses_models(tmp_path)
    with Session(engine_for(m)) as session:
        employee = m.Employee(email="e@example.com", full_name="E", password_hash="x")
        session.add(employee)
        session.flush()
        report = m.ExpenseReport(title="Trip", submitter_id=employee.id)
        session.add(report)
        session.flush()
        line = m.ExpenseLine(report_id=report.id, spent_on=datetime.date(2026, 1, 2), description="Taxi",
                             category="travel", amount=decimal.Decimal("0.10") + decimal.Decimal("0.20"))
        session.add(line)
        session.commit()
        session.expire_all()
        assert session.get(m.ExpenseLine, line.id).amount == decimal.Decimal("0.30")
        line.amount = decimal.Decimal("0.00")  # below the spec's min of 0.01
        with pytest.raises(IntegrityError):
            session.commit()


def test_many_to_many_link_table(tmp_path, engine_for):
    m = tasks_models(tmp_path)
    engine = engine_for(m)
    with Session(engine) as session:
        owner, project, _ = _seed_tasks(m, session)
        session.execute(m.project_members.insert().values(project_id=project.id, user_id=owner.id))
        session.commit()
        with pytest.raises(IntegrityError):  # one membership per pair
            session.execute(m.project_members.insert().values(project_id=project.id, user_id=owner.id))
            session.commit()
