"""The generated Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL.

For each spec, ``alembic upgrade head`` runs as a subprocess in the rendered output
directory (as a user would run it) against a fresh database, and the result is checked
three ways against the models: Alembic's own ``compare_metadata`` (with type comparison)
finds no difference; ``alembic check`` (env.py's configuration) finds nothing to migrate;
and the reflected schema, every name included (constraints, indexes, check constraints,
which ``compare_metadata`` does not look at), equals the schema ``metadata.create_all``
builds in another fresh database. ``alembic downgrade base`` then leaves no table.

PostgreSQL tests use the server at 127.0.0.1:5432 (a scratch database per test). On a
machine without it they are skipped with a visible reason; CI sets
KEEL_REQUIRE_POSTGRES=1, which turns an unreachable server into a failure.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import textwrap
import uuid
import warnings
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.exc import SAWarning

from generator.formatting import format_python
from generator.generate import _environment
from generator.ir import build_ir
from generator.pipeline import validate_path
from generator.targets import header
from generator.targets.migrations import creation_order, migration_files
from tests.conftest import REPO
from tests.generated_app import import_package_module, render_into

PG_ADMIN_URL = os.environ.get("KEEL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# Integer and uuid keys, a self-reference (optional), a self many-to-many, a many-to-many
# between tables, an optional cycle of references between two tables (Person.team <->
# Team.lead), a custom column name, every scalar type, and names longer than PostgreSQL's
# 63 bytes (shortened by SQLAlchemy, identically for the models and the migration).
LAB_SPEC = """\
keel: 1
app:
  name: lab
  title: Lab
  version: "1.0.0"
  description: Every shape of table the migrations must create.
entities:
  Person:
    id: integer
    table: people_with_a_deliberately_long_table_name_for_names
    permissions: {all: "true"}
    fields:
      name: {type: string, max_length: 80, min_length: 1}
      mentor: {type: ref, to: Person, required: false, on_delete: set_null}
      friends: {type: many, to: Person}
      team: {type: ref, to: Team, required: false, on_delete: set_null}
      an_extremely_long_descriptive_attribute_name: {type: string, index: true}
      nickname: {type: string, required: false, column: nick_name, index: true}
      score: {type: decimal, precision: 10, scale: 3, min: 0, max: 1000}
      data: {type: json, required: false}
      token: {type: uuid, unique: true}
      born_on: date?
      seen_at: datetime?
      homepage: url?
      bio: text?
      level: {type: integer, min: 1, max: 10, default: 1}
      kind: {type: enum, values: [a, b], default: a}
      verified: {type: boolean, default: false}
    unique:
      - [name, team]
    indexes:
      - [kind, level]
  Team:
    table: lab_teams
    soft_delete: true
    permissions: {all: "true"}
    fields:
      title: string
      lead: {type: ref, to: Person, on_delete: restrict}
      members: {type: has_many, to: Person, via: team}
      tags: {type: many, to: Tag}
  Tag:
    id: integer
    timestamps: false
    permissions: {all: "true"}
    fields:
      label: {type: string, unique: true}
"""

LAB_TABLES = {"people_with_a_deliberately_long_table_name_for_names", "lab_teams", "tags", "person_friends",
              "team_tags"}


# --- rendering -------------------------------------------------------------------------------


def _spec_dir(app: str, tmp_path: Path) -> Path:
    if app == "lab":
        spec = tmp_path / "lab_spec"
        spec.mkdir(exist_ok=True)
        (spec / "keel.yaml").write_text(LAB_SPEC, encoding="utf-8")
        return spec
    return REPO / "specs" / app


def _ir(spec: Path):
    result = validate_path(spec)
    assert result.ok, result.diagnostics
    return build_ir(result.spec, result.source_map, result.root)


def render_migrations(ir) -> dict[str, str]:
    """The migration files exactly as ``generator.generate.render_files`` renders planned files."""
    out = {}
    for planned in migration_files(ir):
        text_ = _environment().get_template(planned.template).render(**planned.context)
        if planned.path.endswith(".py"):
            text_ = format_python(text_)
            compile(text_, planned.path, "exec")
        out[planned.path] = text_
    return out


def render_app(app: str, tmp_path: Path) -> Path:
    """Render the spec (models and all) plus the migrations into ``tmp_path/out``."""
    spec, out = _spec_dir(app, tmp_path), tmp_path / "out"
    render_into(spec, out)
    for rel, text_ in render_migrations(_ir(spec)).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text_, encoding="utf-8")
    return out


def alembic(out: Path, url: str | None, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if url is not None:
        env["DATABASE_URL"] = url
    proc = subprocess.run([sys.executable, "-m", "alembic", *args], cwd=out, env=env, capture_output=True,
                          text=True, timeout=120)
    if check:
        assert proc.returncode == 0, f"alembic {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@contextlib.contextmanager
def _models_cycle_warning_allowed():
    """The models do not mark a cycle-closing foreign key use_alter, so SQLAlchemy warns when it
    sorts the lab tables (create_all, compare_metadata). The warning is about the models, not
    the migration; it is let through here and only here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Cannot correctly sort tables", category=SAWarning)
        yield


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_admin():
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        if os.environ.get("KEEL_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (KEEL_REQUIRE_POSTGRES) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    yield admin
    admin.dispose()


@pytest.fixture
def pg_databases(pg_admin):
    """new() -> the URL of a fresh scratch PostgreSQL database, dropped after the test."""
    names: list[str] = []

    def new() -> str:
        name = f"keel_migrations_{uuid.uuid4().hex[:10]}"
        with pg_admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    yield new
    with pg_admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, tmp_path):
    """new() -> the URL of a fresh, empty database of the parametrised dialect."""
    if request.param == "postgresql":
        return request.getfixturevalue("pg_databases")
    counter = iter(range(1000))
    return lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}"


def _engine(url: str):
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _foreign_keys_on(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
    return engine


def _tables(url: str) -> set[str]:
    engine = _engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def schema_snapshot(url: str) -> dict:
    """Everything reflection tells about the schema, names included, in a comparable form."""
    engine = _engine(url)
    try:
        insp = inspect(engine)
        by_name = lambda items: sorted(items, key=lambda d: (d.get("name") or "", repr(d)))  # noqa: E731
        snapshot = {}
        for table in sorted(set(insp.get_table_names()) - {"alembic_version"}):
            snapshot[table] = {
                "columns": [{**c, "type": repr(c["type"])} for c in insp.get_columns(table)],
                "pk": insp.get_pk_constraint(table),
                "fks": by_name(insp.get_foreign_keys(table)),
                "indexes": by_name(insp.get_indexes(table)),
                "uniques": by_name(insp.get_unique_constraints(table)),
                "checks": by_name(insp.get_check_constraints(table)),
            }
        return snapshot
    finally:
        engine.dispose()


def model_differences(url: str, models) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = _engine(url)
    try:
        with engine.connect() as conn, _models_cycle_warning_allowed():
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()


# --- the proof -------------------------------------------------------------------------------


@pytest.mark.parametrize("app", ["tasks", "expenses", "lab"])
def test_upgrade_builds_exactly_the_models_schema_and_downgrade_removes_it(app, tmp_path, new_database):
    out = render_app(app, tmp_path)
    models = import_package_module(out, f"{app}.models")
    migrated, reference = new_database(), new_database()

    alembic(out, migrated, "upgrade", "head")

    assert model_differences(migrated, models) == []
    assert "No new upgrade operations detected" in alembic(out, migrated, "check").stdout
    engine = _engine(reference)
    with _models_cycle_warning_allowed():
        models.Base.metadata.create_all(engine)
    engine.dispose()
    expected = schema_snapshot(reference)
    assert set(expected) == {t.name for t in models.Base.metadata.tables.values()}
    assert schema_snapshot(migrated) == expected

    alembic(out, migrated, "downgrade", "base")
    assert _tables(migrated) == set()
    engine = _engine(migrated)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 0
    engine.dispose()


def test_async_sqlite_url_is_migrated_with_the_sync_driver(tmp_path):
    pytest.importorskip("aiosqlite")
    from sqlalchemy.ext.asyncio import create_async_engine

    out = render_app("tasks", tmp_path)
    db = tmp_path / "app.db"
    alembic(out, f"sqlite+aiosqlite:///{db}", "upgrade", "head")

    async def tables() -> set[str]:  # the app's own async URL sees the migrated schema
        engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        await engine.dispose()
        return names

    assert asyncio.run(tables()) == {"users", "projects", "tasks", "project_members", "auth_login_failures",
                                     "idempotency_keys", "notification_outbox", "alembic_version"}
    assert model_differences(f"sqlite:///{db}", import_package_module(out, "tasks.models")) == []


@pytest.mark.parametrize("scheme", ["postgresql+asyncpg", "postgresql", "postgres"])
def test_the_apps_postgresql_urls_are_migrated_with_psycopg(tmp_path, pg_databases, scheme):
    """The app's settings accept these (and upgrade them to asyncpg); env.py runs them on psycopg."""
    out = render_app("expenses", tmp_path)
    url = pg_databases()
    alembic(out, url.replace("postgresql+psycopg://", f"{scheme}://"), "upgrade", "head")
    assert model_differences(url, import_package_module(out, "expenses.models")) == []


def test_without_database_url_the_default_sqlite_file_is_used(tmp_path):
    out = render_app("tasks", tmp_path)
    alembic(out, None, "upgrade", "head")
    assert _tables(f"sqlite:///{out / 'tasks.db'}") == {"users", "projects", "tasks", "project_members",
                                                         "auth_login_failures", "idempotency_keys",
                                                         "notification_outbox"}


def test_sqlite_migrations_enforce_foreign_keys(tmp_path):
    """env.py turns SQLite's foreign keys on: a data migration cannot insert a dangling reference."""
    out = render_app("tasks", tmp_path)
    (out / "migrations/versions/0002_dangling.py").write_text(textwrap.dedent("""\
        from alembic import op

        revision = "0002"
        down_revision = "0001"
        branch_labels = None
        depends_on = None


        def upgrade() -> None:
            op.execute("INSERT INTO project_members (project_id, user_id) VALUES ('nope', 'nobody')")


        def downgrade() -> None:
            pass
        """), encoding="utf-8")
    proc = alembic(out, f"sqlite:///{tmp_path / 'app.db'}", "upgrade", "head", check=False)
    assert proc.returncode != 0
    assert "FOREIGN KEY constraint failed" in proc.stderr


@pytest.mark.parametrize("url,cycle_alter", [("sqlite:///offline.db", False),
                                              ("postgresql+asyncpg://u@localhost/offline", True)])
def test_offline_mode_prints_the_sql(tmp_path, url, cycle_alter):
    out = render_app("lab", tmp_path)
    sql = alembic(out, url, "upgrade", "head", "--sql").stdout
    # + alembic_version and idempotency_keys (creates honour Idempotency-Key)
    assert len(re.findall(r"^CREATE TABLE ", sql, re.M)) == len(LAB_TABLES) + 2
    # The cycle Person.team -> Team.lead -> Person: PostgreSQL adds the closing key by ALTER,
    # SQLite (no ALTER for constraints) declares it in CREATE TABLE.
    closing = "fk_people_with_a_deliberately_long_table_name_for_names_team_id_lab_teams"
    alter = re.search(r"ALTER TABLE people_with_a_deliberately_long_table_name_for_names ADD CONSTRAINT", sql)
    assert bool(alter) is cycle_alter
    if not cycle_alter:
        assert f"CONSTRAINT {closing} FOREIGN KEY(team_id) REFERENCES lab_teams (id)" in sql


def test_user_revisions_start_from_the_initial_one(tmp_path):
    """script.py.mako works, and autogenerate against a migrated database finds nothing to do."""
    out = render_app("tasks", tmp_path)
    url = f"sqlite:///{tmp_path / 'app.db'}"
    alembic(out, url, "upgrade", "head")
    alembic(out, url, "revision", "--autogenerate", "--rev-id", "0002", "-m", "nothing yet")
    [path] = (out / "migrations/versions").glob("0002_*.py")
    source = path.read_text(encoding="utf-8")
    compile(source, str(path), "exec")
    assert 'down_revision: str | Sequence[str] | None = "0001"' in source.replace("'", '"')
    assert "Generated by Keel" not in source  # the template's header is a Mako comment
    functions = {node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    for name in ("upgrade", "downgrade"):
        assert [type(stmt) for stmt in functions[name].body] == [ast.Pass], name
    alembic(out, url, "upgrade", "head")


# --- the files themselves --------------------------------------------------------------------


@pytest.mark.parametrize("app", ["tasks", "expenses", "lab"])
def test_files_are_deterministic_and_carry_the_header(app, tmp_path):
    spec = _spec_dir(app, tmp_path)
    ir = _ir(spec)
    first, second = render_migrations(ir), render_migrations(_ir(spec))
    assert first == second
    assert set(first) == {"alembic.ini", "migrations/env.py", "migrations/script.py.mako",
                          "migrations/versions/0001_initial.py"}
    for path, text_ in first.items():
        expected = header(ir, "##" if path.endswith(".mako") else "#")
        assert text_.startswith(expected + "\n"), path
    initial = first["migrations/versions/0001_initial.py"]
    assert 'revision: str = "0001"' in initial and "down_revision: str | None = None" in initial
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}", initial)  # no create date
    ini = first["alembic.ini"]
    assert "sqlalchemy.url" not in ini and "script_location = %(here)s/migrations" in ini
    assert f"sqlite:///./{ir.package}.db" in first["migrations/env.py"]


def test_tables_are_created_after_the_tables_they_reference(tmp_path):
    ir = _ir(_spec_dir("lab", tmp_path))
    ordered, deferred = creation_order(ir)
    assert [e.table for e in ordered] == ["tags", "people_with_a_deliberately_long_table_name_for_names",
                                         "lab_teams"]
    assert deferred == {("people_with_a_deliberately_long_table_name_for_names", "team_id")}
    for tasks_ir in [_ir(REPO / "specs/tasks"), _ir(REPO / "specs/expenses")]:
        ordered, deferred = creation_order(tasks_ir)
        assert deferred == set()
        seen: set[str] = set()
        for e in ordered:
            targets = {c.foreign_key.target_table for c in e.columns if c.foreign_key} - {e.table}
            assert targets <= seen, e.table
            seen.add(e.table)


def test_the_migrate_command_gives_sqlite_planner_statistics(tmp_path):
    """`python -m <app> migrate` also runs ANALYZE on SQLite: without statistics its planner
    chose a poor index for a filtered list at a million rows (bench/api_bench.py)."""
    out = render_app("tasks", tmp_path)
    db = tmp_path / "app.db"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{db}", PYTHONPATH=str(out))
    migrate = [sys.executable, "-m", "tasks", "migrate"]
    done = subprocess.run(migrate, cwd=out, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:  # the app has been used: users exist
        for n in range(3):
            conn.execute(text("INSERT INTO users (id, email, name, password_hash, active, role, created_at, "
                              "updated_at, lock_version) VALUES (:id, :email, 'U', 'x', 1, 'member', "
                              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"),
                         {"id": uuid.uuid4().hex, "email": f"u{n}@example.test"})
    done = subprocess.run(migrate, cwd=out, env=env, capture_output=True, text=True, timeout=120)  # next start
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        analysed = {row[0]: row[2] for row in conn.execute(text("SELECT tbl, idx, stat FROM sqlite_stat1"))}
    engine.dispose()
    assert analysed["users"].startswith("3 ")  # the planner now knows the table's size
