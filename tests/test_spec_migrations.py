"""Migrations that follow the spec: each spec change becomes a new Alembic revision, data kept.

A series of versions of the task manager spec (specs/tasks), each a small edit of the one
before, is generated with `keel generate` into one output directory in turn, as a user would.
A database created at version 1 and filled is then upgraded one revision at a time to the
last, on SQLite and PostgreSQL, checking after each step that no row and no value was lost
(renamed columns keep their values; child rows survive SQLite's copy of their parent table,
which with foreign keys enforced would cascade-delete them). At the end the schema is the
one `metadata.create_all` builds for the last version (Alembic's `compare_metadata` finds no
difference, and the reflected tables, columns, keys, constraints and indexes match). Then
it is downgraded one revision at a time where that is possible: the revision that dropped a
column refuses, clearly, before changing anything.

Also: regenerating an unchanged spec adds nothing, `keel check` reports the revision a
changed spec needs, and a change that loses data is refused with K701 unless
`--allow-destructive` is given (K702: a new required field without a default, always).
"""

from __future__ import annotations

import datetime
import json
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from generator.cli import main
from tests.conftest import REPO
from tests.generated_app import import_package_module
from tests.test_generated_migrations import (_engine, alembic, model_differences, new_database,  # noqa: F401
                                             pg_admin, pg_databases, schema_snapshot)

SPEC = (REPO / "specs" / "tasks" / "keel.yaml").read_text(encoding="utf-8")


def _edit(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, f"edit anchor not found once: {old!r}"
    return source.replace(old, new)


def versions() -> list[tuple[str, str, bool]]:
    """(name, spec text, needs --allow-destructive) for each version, in order."""
    v1 = SPEC
    # v2: a field with a default on a parent table (SQLite copies `projects`, whose tasks must
    # survive), a field with a default on tasks, and an enum value longer than the others.
    v2 = _edit(v1, "      description: text?\n      owner:",
               "      description: text?\n      archived: {type: boolean, default: false}\n      owner:")
    v2 = _edit(v2, "      created_by: {type: ref, to: User, auto: current_user, on_delete: restrict}\n",
               "      created_by: {type: ref, to: User, auto: current_user, on_delete: restrict}\n"
               "      estimate: {type: integer, min: 0, default: 1}\n")
    v2 = _edit(v2, "values: [low, normal, high, urgent], default: normal",
               "values: [low, normal, high, urgent, critical], default: normal")
    # v3: a new entity referenced by tasks, a new index, a new check, a new unique constraint.
    v3 = _edit(v2, "\n  Task:\n", "\n  Label:\n    description: A tag for tasks.\n    fields:\n"
               "      name: {type: string, max_length: 40}\n"
               "      project: {type: ref, to: Project, on_delete: cascade}\n"
               "    permissions:\n      all: user != null\n\n  Task:\n")
    v3 = _edit(v3, "      estimate: {type: integer, min: 0, default: 1}\n",
               "      estimate: {type: integer, min: 0, max: 1000, default: 1}\n"
               "      label: {type: ref, to: Label, required: false, on_delete: set_null}\n")
    v3 = _edit(v3, "    indexes:\n      - [project, status]\n",
               "    indexes:\n      - [project, status]\n      - [priority, due_date]\n")
    v3 = _edit(v3, "    unique:\n      - [owner, name]\n",
               "    unique:\n      - [owner, name]\n      - [owner, slug]\n")
    # v4: a field renamed (its values kept), and a longer max_length.
    v4 = _edit(v3, "      description: text?\n      project: {type: ref, to: Project,",
               "      details: {type: text, required: false, renamed_from: description}\n"
               "      project: {type: ref, to: Project,")
    v4 = _edit(v4, "title: {type: string, min_length: 1, max_length: 200}",
               "title: {type: string, min_length: 1, max_length: 300}")
    # v5: an entity renamed (its rows kept, the tasks' references follow).
    v5 = _edit(v4, "\n  Label:\n", "\n  Tag:\n    renamed_from: Label\n")
    v5 = _edit(v5, "label: {type: ref, to: Label,", "label: {type: ref, to: Tag,")
    # v6: a field dropped, which needs --allow-destructive.
    v6 = _edit(v5, "      estimate: {type: integer, min: 0, max: 1000, default: 1}\n", "")
    return [("v1", v1, False), ("v2", v2, False), ("v3", v3, False), ("v4", v4, False), ("v5", v5, False),
            ("v6", v6, True)]


def _generate(spec_dir: Path, out: Path, *extra: str) -> int:
    return main(["generate", str(spec_dir), "--out", str(out), *extra])


def _write(spec_dir: Path, source: str) -> None:
    """The example spec's directory (its included files too) with ``source`` as its keel.yaml."""
    if not spec_dir.exists():
        shutil.copytree(REPO / "specs" / "tasks", spec_dir)
    (spec_dir / "keel.yaml").write_text(source, encoding="utf-8")


def _revisions(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "migrations" / "versions").glob("*.py"))


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> dict:
    """Every version generated in turn into one directory; a copy of the directory after each."""
    root = tmp_path_factory.mktemp("series")
    spec_dir, out = root / "spec" / "tasks", root / "out"
    copies = {}
    for name, source, destructive in versions():
        _write(spec_dir, source)
        if destructive:
            assert _generate(spec_dir, out) == 1  # refused without the flag
        assert _generate(spec_dir, out, *(["--allow-destructive"] if destructive else [])) == 0
        copies[name] = root / f"out_{name}"
        shutil.copytree(out, copies[name])
    return {"out": out, "copies": copies, "spec": spec_dir}


def test_each_spec_change_adds_one_revision_and_keeps_the_earlier_ones(series):
    copies = series["copies"]
    assert _revisions(copies["v1"]) == ["0001_initial.py"]
    for before, after in zip(list(copies)[:-1], list(copies)[1:]):
        old, new = _revisions(copies[before]), _revisions(copies[after])
        assert new[:-1] == old and len(new) == len(old) + 1, (before, after, new)
        for name in old:  # earlier revisions are kept byte for byte
            assert (copies[after] / "migrations/versions" / name).read_bytes() == \
                (copies[before] / "migrations/versions" / name).read_bytes()
    doc = json.loads((series["out"] / "migrations/schema_snapshot.json").read_text(encoding="utf-8"))
    assert [r["revision"] for r in doc["revisions"]] == ["0001", "0002", "0003", "0004", "0005", "0006"]
    last = (series["out"] / "migrations/versions" / _revisions(series["out"])[-1]).read_text(encoding="utf-8")
    assert 'down_revision: str | None = "0005"' in last
    assert "cannot be downgraded" in last


def test_a_rename_is_never_a_drop_and_an_add(series):
    out = series["copies"]["v4"]
    [v4] = [p for p in _revisions(out) if p.startswith("0004")]
    source = (out / "migrations/versions" / v4).read_text(encoding="utf-8")
    assert "new_column_name=\"details\"" in source
    assert "drop_column" not in source.split("def downgrade")[0]
    out = series["copies"]["v5"]
    [v5] = [p for p in _revisions(out) if p.startswith("0005")]
    source = (out / "migrations/versions" / v5).read_text(encoding="utf-8")
    assert 'op.rename_table("labels", "tags")' in source
    assert "drop_table" not in source.split("def downgrade")[0]


def test_regenerating_an_unchanged_spec_adds_nothing_and_check_passes(series, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(series["copies"]["v3"], out)
    _write(tmp_path / "spec" / "tasks", versions()[2][1])
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert _generate(tmp_path / "spec" / "tasks", out) == 0
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert main(["check", str(tmp_path / "spec" / "tasks"), "--out", str(out)]) == 0


def test_check_reports_the_revision_a_changed_spec_needs(series, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(series["copies"]["v3"], out)
    _write(tmp_path / "spec" / "tasks", versions()[3][1])
    capsys.readouterr()
    assert main(["check", str(tmp_path / "spec" / "tasks"), "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert "missing: " in report and "migrations/versions/0004_" in report
    assert "stale: " in report and "migrations/schema_snapshot.json" in report


def test_a_destructive_change_is_refused_without_the_flag(series, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(series["copies"]["v5"], out)
    spec_dir = tmp_path / "spec" / "tasks"
    _write(spec_dir, versions()[5][1])
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert _generate(spec_dir, out) == 1
    err = capsys.readouterr().err
    assert "error[K701]" in err and "tasks.estimate" in err and "--allow-destructive" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # nothing written
    # A field dropped and another added is not guessed to be a rename.
    _write(spec_dir, _edit(versions()[4][1], "      estimate: {type: integer, min: 0, max: 1000, default: 1}\n",
                           "      effort: {type: integer, min: 0, max: 1000, default: 1}\n"))
    assert _generate(spec_dir, out) == 1
    assert "tasks.estimate" in capsys.readouterr().err


def test_a_new_required_field_without_a_default_is_refused(series, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(series["copies"]["v1"], out)
    spec_dir = tmp_path / "spec" / "tasks"
    _write(spec_dir, _edit(SPEC, "      due_date: date?\n", "      due_date: date?\n      effort: integer\n"))
    capsys.readouterr()
    assert _generate(spec_dir, out, "--allow-destructive") == 1
    err = capsys.readouterr().err
    assert "error[K702]" in err and "`effort`" in err and "default" in err
    assert "keel.yaml:" in err  # located in the spec


# --- the data --------------------------------------------------------------------------------------------


def _fill_v1(url: str, models) -> dict:
    """Rows at version 1: a user, two projects (one with three tasks), a membership."""
    t = models.Base.metadata.tables
    engine = _engine(url)
    user, p1, p2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    tasks = [uuid.uuid4() for _ in range(3)]
    with engine.begin() as conn:
        conn.execute(insert(t["users"]).values(id=user, email="a@example.test", name="Ann", password_hash="x",
                                                role="admin", active=True))
        for pid, name in ((p1, "Alpha"), (p2, "Beta")):
            conn.execute(insert(t["projects"]).values(id=pid, name=name, slug=name.lower(), owner_id=user))
        conn.execute(insert(t["project_members"]).values(project_id=p1, user_id=user))
        for i, tid in enumerate(tasks):
            conn.execute(insert(t["tasks"]).values(
                id=tid, title=f"Task {i}", description=f"about {i}", project_id=p1, priority="high",
                created_by_id=user, status="todo", due_date=datetime.date(2030, 1, i + 1)))
    engine.dispose()
    return {"user": user, "projects": {p1, p2}, "tasks": set(tasks)}


def _rows(url: str, sql: str) -> list:
    engine = _engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).all()
    engine.dispose()
    return rows


def _ids(url: str, table: str) -> set[uuid.UUID]:
    return {uuid.UUID(str(r[0])) for r in _rows(url, f"SELECT id FROM {table}")}


def _check_data(url: str, step: str, seeded: dict) -> None:
    """No row lost and no value lost, as the schema looks after ``step`` (a version name)."""
    assert _ids(url, "projects") == seeded["projects"], step
    assert _ids(url, "tasks") == seeded["tasks"], step
    assert len(_rows(url, "SELECT * FROM project_members")) == 1, step
    column = "details" if step in ("v4", "v5", "v6") else "description"
    texts = sorted(r[0] for r in _rows(url, f"SELECT {column} FROM tasks"))
    assert texts == ["about 0", "about 1", "about 2"], step
    assert {r[0] for r in _rows(url, "SELECT priority FROM tasks")} == {"high"}, step
    if step in ("v2", "v3", "v4", "v5"):
        assert {r[0] for r in _rows(url, "SELECT estimate FROM tasks")} == {1}, step  # filled with the default
        assert {bool(r[0]) for r in _rows(url, "SELECT archived FROM projects")} == {False}, step
    if step in ("v3", "v4"):
        assert len(_rows(url, "SELECT * FROM labels")) == 1, step
    if step in ("v5", "v6"):
        assert [r[0] for r in _rows(url, "SELECT name FROM tags")] == ["urgent"], step
        assert len(_rows(url, "SELECT * FROM tasks WHERE label_id IS NOT NULL")) == 2, step


def _add_label(url: str) -> None:
    """At version 3: a label, on two tasks (rows the entity rename must carry along)."""
    engine = _engine(url)
    label = uuid.uuid4()
    with engine.begin() as conn:
        project = _rows(url, "SELECT project_id FROM tasks")[0][0]
        conn.execute(text("INSERT INTO labels (id, name, project_id, created_at, updated_at, lock_version) "
                          "VALUES (:id, 'urgent', :p, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"),
                     {"id": label.hex if engine.dialect.name == "sqlite" else str(label), "p": project})
        two = [r[0] for r in conn.execute(text("SELECT id FROM tasks ORDER BY title")).all()[:2]]
        for tid in two:
            conn.execute(text("UPDATE tasks SET label_id = :l WHERE id = :t"),
                         {"l": label.hex if engine.dialect.name == "sqlite" else str(label), "t": tid})
    engine.dispose()


def test_a_filled_database_is_upgraded_step_by_step_without_losing_data(series, new_database):
    copies, out = series["copies"], series["out"]
    url, reference = new_database(), new_database()
    alembic(out, url, "upgrade", "0001")
    seeded = _fill_v1(url, import_package_module(copies["v1"], "tasks.models"))
    _check_data(url, "v1", seeded)
    for number, step in enumerate(["v2", "v3", "v4", "v5", "v6"], start=2):
        alembic(out, url, "upgrade", f"{number:04d}")
        if step == "v3":
            _add_label(url)
        _check_data(url, step, seeded)
    # The schema is the last version's, exactly.
    models = import_package_module(copies["v6"], "tasks.models")
    assert model_differences(url, models) == []
    assert "No new upgrade operations detected" in alembic(out, url, "check").stdout
    engine = _engine(reference)
    models.Base.metadata.create_all(engine)
    engine.dispose()
    sqlite = url.startswith("sqlite")
    assert _comparable(schema_snapshot(url), sqlite) == _comparable(schema_snapshot(reference), sqlite)
    # Downgrading past the dropped column is refused before anything changes.
    proc = alembic(out, url, "downgrade", "0005", check=False)
    assert proc.returncode != 0 and "cannot be downgraded" in proc.stderr
    _check_data(url, "v6", seeded)


def test_reversible_revisions_downgrade_step_by_step_without_losing_data(series, new_database):
    copies, out = series["copies"], series["out"]
    url = new_database()
    alembic(out, url, "upgrade", "0001")
    seeded = _fill_v1(url, import_package_module(copies["v1"], "tasks.models"))
    alembic(out, url, "upgrade", "0003")
    _add_label(url)
    alembic(out, url, "upgrade", "0005")
    _check_data(url, "v5", seeded)
    for number, step in ((4, "v4"), (3, "v3"), (2, "v2"), (1, "v1")):
        alembic(out, url, "downgrade", f"{number:04d}")
        _check_data(url, step, seeded)
    models = import_package_module(copies["v1"], "tasks.models")
    assert model_differences(url, models) == []


def _comparable(snapshot: dict, sqlite: bool) -> dict:
    """Reflected schema without what legitimately differs between a migrated database and a
    fresh one: column order (added columns come last) and, on SQLite, the primary key's name
    (SQLite does not use it, so a renamed table keeps its old one; PostgreSQL renames it)."""
    out = {}
    for table, info in snapshot.items():
        info = dict(info)
        info["columns"] = sorted(info["columns"], key=lambda c: c["name"])
        if sqlite:
            info["pk"] = {**info["pk"], "name": None}
        out[table] = info
    return out


def test_the_same_spec_and_directory_always_give_the_same_files(series, tmp_path):
    spec_dir = tmp_path / "spec" / "tasks"
    _write(spec_dir, versions()[2][1])
    outputs = []
    for name in ("a", "b"):
        shutil.copytree(series["copies"]["v2"], tmp_path / name)
        assert _generate(spec_dir, tmp_path / name) == 0
        outputs.append({p.relative_to(tmp_path / name): p.read_bytes() for p in (tmp_path / name).rglob("*")
                        if p.is_file() and p.name != ".keel-manifest.json"})
    assert outputs[0] == outputs[1]
    assert outputs[0] == {p.relative_to(series["copies"]["v3"]): p.read_bytes()
                          for p in series["copies"]["v3"].rglob("*") if p.is_file() and p.name != ".keel-manifest.json"}


def test_an_unreadable_history_is_refused_with_k703(series, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(series["copies"]["v3"], out)
    [v3] = (out / "migrations/versions").glob("0003_*.py")
    v3.unlink()
    spec_dir = tmp_path / "spec" / "tasks"
    _write(spec_dir, versions()[3][1])
    capsys.readouterr()
    assert _generate(spec_dir, out) == 1
    err = capsys.readouterr().err
    assert "error[K703]" in err and v3.name in err
    (out / "migrations/schema_snapshot.json").write_text("{not json", encoding="utf-8")
    assert _generate(spec_dir, out) == 1
    assert "error[K703]" in capsys.readouterr().err


# --- the second example: decimals ----------------------------------------------------------------------

EXPENSES = REPO / "specs" / "expenses"


def test_expenses_decimal_changes_keep_every_amount(tmp_path, new_database):
    """Expenses v2: wider amounts, a decimal field with a default, a new category; up and down."""
    spec_dir, out = tmp_path / "spec" / "expenses", tmp_path / "out"
    shutil.copytree(EXPENSES, spec_dir)
    lines = spec_dir / "entities" / "reports.yaml"
    v1 = lines.read_text(encoding="utf-8")
    assert _generate(spec_dir, out) == 0
    shutil.copytree(out, tmp_path / "out_v1")
    v2 = _edit(v1, "amount: {type: decimal, precision: 12, scale: 2, min: 0.01, max: 100000}",
               "amount: {type: decimal, precision: 14, scale: 2, min: 0.01, max: 100000}\n"
               "      tip: {type: decimal, precision: 8, scale: 2, min: 0, default: 0.5}")
    v2 = _edit(v2, "values: [travel, lodging, meals, supplies, other]",
               "values: [travel, lodging, meals, supplies, training, other]")
    lines.write_text(v2, encoding="utf-8")
    assert _generate(spec_dir, out) == 0
    assert _revisions(out)[0] == "0001_initial.py" and _revisions(out)[1].startswith("0002_")
    revision = (out / "migrations/versions" / _revisions(out)[1]).read_text(encoding="utf-8")
    assert 'decimal.Decimal("0.50")' in revision  # the default, exactly, for the stored lines

    url = new_database()
    alembic(out, url, "upgrade", "0001")
    models = import_package_module(tmp_path / "out_v1", "expenses.models")
    t = models.Base.metadata.tables
    engine = _engine(url)
    amounts = ["0.01", "12.34", "99999.99"]
    with engine.begin() as conn:
        employee = uuid.uuid4()
        conn.execute(insert(t["employees"]).values(id=employee, email="e@example.test", full_name="E",
                                                    password_hash="x", role="employee", active=True))
        report = uuid.uuid4()
        conn.execute(insert(t["expense_reports"]).values(id=report, title="Trip", submitter_id=employee,
                                                          currency="EUR", status="draft"))
        for i, amount in enumerate(amounts):
            conn.execute(insert(t["expense_lines"]).values(
                id=uuid.uuid4(), report_id=report, spent_on=datetime.date(2024, 1, i + 1),
                description=f"line {i}", category="meals", amount=__import__("decimal").Decimal(amount)))
    engine.dispose()

    def stored() -> list[tuple[str, str]]:
        rows = _rows(url, "SELECT amount, category FROM expense_lines ORDER BY amount")
        return [(f"{float(a):.2f}", c) for a, c in rows]

    alembic(out, url, "upgrade", "head")
    assert stored() == [(a, "meals") for a in amounts]
    assert {f"{float(r[0]):.2f}" for r in _rows(url, "SELECT tip FROM expense_lines")} == {"0.50"}
    assert model_differences(url, import_package_module(out, "expenses.models")) == []
    alembic(out, url, "downgrade", "0001")
    assert stored() == [(a, "meals") for a in amounts]
    assert model_differences(url, models) == []
