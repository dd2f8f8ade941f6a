"""Six versions of the expenses spec, migrated one revision at a time on SQLite and PostgreSQL.

The changes an expenses team makes over a year, each a small edit of the example spec
(specs/expenses, its included entity file and its scenarios), generated with `keel generate`
into one output directory in turn:

  v2  a cost centre on reports and a `billable` flag on lines (required, with defaults: stored
      rows get them), and a new category longer than the others (the column widens);
  v3  receipts: a new audited entity under reports (a unique file hash, a unique file name per
      report, an index), referenced by lines (`on_delete: set_null`);
  v4  the line's `description` renamed `label` (`renamed_from`), amounts widened to 14 digits
      (and a higher maximum), longer titles;
  v5  the entity `Receipt` renamed `Attachment` (`renamed_from`), and a new workflow state,
      `withdrawn`, with its transition;
  v6  `billable` dropped (`--allow-destructive`).

The v1 database is filled by the v1 app itself, over HTTP: reports in every state, lines, a
pending approval (a manager approved, finance has not yet), notifications, audit entries, an
idempotency record, a failed sign-in. At each step no row and no value is lost, in the entity
tables and in the support tables (`audit_log`, `workflow_approvals`, `notification_outbox`,
`idempotency_keys`, `auth_login_failures`), and the audit log is still append-only. At the end
the schema is exactly the last version's `metadata.create_all`, and the v6 app works on the
migrated database: finance completes the approval the manager started at v1, the history of a
v1 report shows its v1 entries, the employee reads the notifications of v1, a v1 idempotent
request is replayed. The reversible revisions are then downgraded one at a time, data kept.

The support tables under entity renames and table copies: tests/test_spec_migrations_relabel.py.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError

from generator.cli import main
from tests.conftest import REPO
from tests.generated_app import import_package_module
from tests.test_generated_auth import PASSWORD, serve
from tests.test_generated_migrations import (_engine, alembic, model_differences, new_database,  # noqa: F401
                                             pg_admin, pg_databases, schema_snapshot)
from tests.test_spec_migrations import _comparable, _edit, _revisions

EXPENSES = REPO / "specs" / "expenses"
REPORTS = "entities/reports.yaml"
API = "/api/v1"


def versions() -> list[tuple[str, dict[str, str], bool]]:
    """(name, {spec file: text}, needs --allow-destructive) for each version, in order."""
    v1 = {name: (EXPENSES / name).read_text(encoding="utf-8") for name in ("keel.yaml", REPORTS, "scenarios.yaml")}
    r = v1[REPORTS]
    # v2: required fields with defaults on both tables (stored rows get the default), a longer category.
    r = _edit(r, "      rejection_reason: {type: text, required: false, read_only: true}\n",
              "      rejection_reason: {type: text, required: false, read_only: true}\n"
              "      cost_center: {type: string, max_length: 20, default: GENERAL}\n")
    r = _edit(r, "      amount: {type: decimal, precision: 12, scale: 2, min: 0.01, max: 100000}\n",
              "      amount: {type: decimal, precision: 12, scale: 2, min: 0.01, max: 100000}\n"
              "      billable: {type: boolean, default: true}\n")
    r = _edit(r, "values: [travel, lodging, meals, supplies, other]",
              "values: [travel, lodging, meals, supplies, conference, other]")
    v2 = {**v1, REPORTS: r}
    # v3: receipts, audited, under reports; lines may point at one.
    r = _edit(r, "\n  ExpenseLine:\n", "\n  Receipt:\n    description: A scanned receipt of a report.\n"
              "    audit: true\n    fields:\n"
              "      report: {type: ref, to: ExpenseReport, on_delete: cascade}\n"
              "      file_name: {type: string, min_length: 1, max_length: 255}\n"
              "      sha256: {type: string, min_length: 64, max_length: 64, unique: true}\n"
              "      size_bytes: {type: integer, min: 1, max: 20000000}\n"
              "      content_type: {type: enum, values: [pdf, png, jpeg], default: pdf}\n"
              "    unique:\n      - [report, file_name]\n"
              "    indexes:\n      - [report, content_type]\n"
              "    permissions:\n"
              "      all: user == record.report.submitter or user.role in ['manager', 'finance', 'admin']\n"
              "\n  ExpenseLine:\n")
    r = _edit(r, "      billable: {type: boolean, default: true}\n",
              "      billable: {type: boolean, default: true}\n"
              "      receipt: {type: ref, to: Receipt, required: false, on_delete: set_null}\n")
    v3 = {**v2, REPORTS: r}
    # v4: a field renamed (the scenarios follow), wider amounts, longer titles.
    r = _edit(r, "      description: {type: string, min_length: 1, max_length: 200}\n",
              "      label: {type: string, min_length: 1, max_length: 200, renamed_from: description}\n")
    r = _edit(r, "amount: {type: decimal, precision: 12, scale: 2, min: 0.01, max: 100000}",
              "amount: {type: decimal, precision: 14, scale: 2, min: 0.01, max: 100000000000}")
    r = _edit(r, "title: {type: string, min_length: 1, max_length: 200}",
              "title: {type: string, min_length: 1, max_length: 300}")
    v4 = {**v3, REPORTS: r, "scenarios.yaml": v3["scenarios.yaml"].replace(", description: ", ", label: ")}
    # v5: an entity renamed (its rows, its audit trail and the lines' references follow); a new state.
    r = _edit(r, "\n  Receipt:\n", "\n  Attachment:\n    renamed_from: Receipt\n")
    r = _edit(r, "receipt: {type: ref, to: Receipt,", "receipt: {type: ref, to: Attachment,")
    r = _edit(r, "states: [draft, submitted, approved, paid, rejected]",
              "states: [draft, submitted, approved, paid, rejected, withdrawn]")
    r = _edit(r, "final: [paid, rejected]", "final: [paid, rejected, withdrawn]")
    r = _edit(r, "        pay:\n", "        withdraw:\n          from: [draft, submitted]\n          to: withdrawn\n"
              "          permission: user == record.submitter\n        pay:\n")
    v5 = {**v4, REPORTS: r}
    # v6: a field dropped.
    v6 = {**v5, REPORTS: _edit(r, "      billable: {type: boolean, default: true}\n", "")}
    return [("v1", v1, False), ("v2", v2, False), ("v3", v3, False), ("v4", v4, False), ("v5", v5, False),
            ("v6", v6, True)]


STEPS = ["v1", "v2", "v3", "v4", "v5", "v6"]


def _generate(spec_dir: Path, out: Path, *extra: str) -> int:
    return main(["generate", str(spec_dir), "--out", str(out), *extra])


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> dict:
    """Every version generated in turn into one directory; a copy of the directory after each."""
    root = tmp_path_factory.mktemp("expenses_series")
    spec_dir, out = root / "spec" / "expenses", root / "out"
    shutil.copytree(EXPENSES, spec_dir)
    copies = {}
    for name, files, destructive in versions():
        for rel, source in files.items():
            (spec_dir / rel).write_text(source, encoding="utf-8")
        if destructive:
            assert _generate(spec_dir, out) == 1  # refused without the flag
        assert _generate(spec_dir, out, *(["--allow-destructive"] if destructive else [])) == 0
        copies[name] = root / f"out_{name}"
        shutil.copytree(out, copies[name])
    return {"out": out, "copies": copies}


def test_each_version_adds_one_revision_and_keeps_the_earlier_ones(series):
    copies = series["copies"]
    names = [_revisions(copies[step]) for step in STEPS]
    assert [len(n) for n in names] == [1, 2, 3, 4, 5, 6]
    for before, after in zip(STEPS, STEPS[1:]):
        for name in _revisions(copies[before]):
            assert (copies[after] / "migrations/versions" / name).read_bytes() == \
                (copies[before] / "migrations/versions" / name).read_bytes(), (after, name)
    source = {n[:4]: (series["out"] / "migrations/versions" / n).read_text(encoding="utf-8")
              for n in _revisions(series["out"])}
    assert 'new_column_name="label"' in source["0004"]
    assert 'op.rename_table("receipts", "attachments")' in source["0005"]
    assert "cannot be downgraded" in source["0006"] and "expense_lines.billable" in source["0006"]


# --- v1, filled by the v1 app -----------------------------------------------------------------------------


class Client:
    """The app of one version served on the database, with its employees signed in."""

    def __init__(self, app: Any) -> None:
        self.app, self.tokens = app, {}

    def login(self, *names: str) -> None:
        for name in names:
            response = self.app.client.post(f"{API}/auth/login", json={"email": f"{name}@example.test",
                                                                       "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.tokens[name] = response.json()["access_token"]

    def call(self, method: str, path: str, who: str, expect: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kwargs.pop("headers", {})}
        response = self.app.client.request(method, API + path, headers=headers, **kwargs)
        assert response.status_code == expect, (method, path, response.text)
        return response.json() if response.content else None


def _served(out: Path, tmp_path: Path, url: str, monkeypatch):
    app, _ = serve("expenses", tmp_path, url, monkeypatch, create_schema=False, out=out)
    return app


def _fill_v1(out: Path, url: str, tmp_path: Path, monkeypatch) -> dict:
    """Employees in SQL (sign-up is off), everything else through the v1 API."""
    from argon2 import PasswordHasher

    models = import_package_module(out, "expenses.models")
    ids = {name: uuid.uuid4() for name in ("emp", "mgr", "fin")}
    engine = _engine(url)
    with engine.begin() as conn:
        hashed = PasswordHasher().hash(PASSWORD)
        for name, role in (("mgr", "manager"), ("fin", "finance"), ("emp", "employee")):
            conn.execute(insert(models.Employee.__table__).values(
                id=ids[name], email=f"{name}@example.test", full_name=name.title(), password_hash=hashed,
                role=role, active=True, lock_version=1, manager_id=ids["mgr"] if name == "emp" else None))
    engine.dispose()
    app = _served(out, tmp_path, url, monkeypatch)
    with app.client:
        c = Client(app)
        c.login("emp", "mgr", "fin")
        bad = app.client.post(f"{API}/auth/login", json={"email": "emp@example.test", "password": "wrong-Passw0rd!"})
        assert bad.status_code == 401  # remembered in auth_login_failures

        def report(title: str, *lines: tuple[str, str, str]) -> tuple[str, list[str]]:
            rid = c.call("POST", "/expense-reports", "emp", 201, json={"title": title})["id"]
            line_ids = [c.call("POST", "/expense-lines", "emp", 201, json={
                "report_id": rid, "spent_on": f"2024-03-{day:02d}", "description": label, "category": category,
                "amount": amount})["id"] for day, (label, category, amount) in enumerate(lines, start=1)]
            return rid, line_ids

        lyon, _ = report("Lyon trip", ("Train", "travel", "120.50"), ("Hotel", "lodging", "980.00"))
        office, _ = report("Office", ("Paper", "supplies", "12.34"))
        draft, [lunch] = report("Draft", ("Lunch", "meals", "0.01"))
        big, _ = report("Big", ("Server", "other", "99999.99"))
        for rid in (lyon, office, big):
            c.call("POST", f"/expense-reports/{rid}/submit", "emp")
        # Lyon is above 1,000: the manager's approval is recorded, finance's still missing.
        assert c.call("POST", f"/expense-reports/{lyon}/approve", "mgr", 202)["status"] == "submitted"
        c.call("POST", f"/expense-reports/{office}/approve", "mgr")
        c.call("POST", f"/expense-reports/{office}/pay", "fin", headers={"Idempotency-Key": "pay-office-1"})
        c.call("POST", f"/expense-reports/{big}/reject", "fin", json={"reason": "Needs a quote"})
        c.call("PATCH", f"/expense-lines/{lunch}", "emp", json={"amount": "0.02"})
    app.close()
    seeded = {"employees": ids, "reports": {"lyon": lyon, "office": office, "draft": draft, "big": big},
              "lunch": lunch}
    contents = _contents(url)
    for table in ("audit_log", "workflow_approvals", "notification_outbox", "idempotency_keys",
                  "auth_login_failures"):
        assert contents[table], f"v1 left {table} empty"  # every support table has rows to keep
    assert len(contents["expense_lines"]) == 5 and len(contents["expense_reports"]) == 4
    return {**seeded, "contents": contents}


def _add_receipt_v3(out: Path, url: str, tmp_path: Path, monkeypatch, seeded: dict) -> str:
    """Through the v3 app: a receipt of the draft report (audited), and its lunch line pointing at it."""
    app = _served(out, tmp_path, url, monkeypatch)
    with app.client:
        c = Client(app)
        c.login("emp")
        receipt = c.call("POST", "/receipts", "emp", 201, json={
            "report_id": seeded["reports"]["draft"], "file_name": "lunch.pdf", "sha256": "ab" * 32,
            "size_bytes": 2048})
        assert receipt["content_type"] == "pdf"
        c.call("PATCH", f"/expense-lines/{seeded['lunch']}", "emp", json={"receipt_id": receipt["id"]})
    app.close()
    return receipt["id"]


# --- what the database holds ------------------------------------------------------------------------------


def _contents(url: str) -> dict[str, list[dict]]:
    """Every row of every table (alembic_version aside), values exactly as the database returns them."""
    engine = _engine(url)
    out = {}
    with engine.connect() as conn:
        for table in schema_snapshot(url):
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
            out[table] = _sorted([dict(row) for row in rows])
    engine.dispose()
    return out


def _sorted(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: repr(sorted(r.items(), key=lambda kv: kv[0])))


def _transform(contents: dict, table: str, change) -> dict:
    out = dict(contents)
    out[table] = _sorted([change(dict(row)) for row in contents[table]])
    return out


def _rename_key(row: dict, a: str, b: str) -> dict:
    return {(b if k == a else k): v for k, v in row.items()}


def _after(contents: dict, step: str) -> dict:
    """What the database must hold after upgrading to ``step``, given what it held one step before."""
    if step == "v2":
        c = _transform(contents, "expense_lines", lambda r: {**r, "billable": True})
        return _transform(c, "expense_reports", lambda r: {**r, "cost_center": "GENERAL"})
    if step == "v3":
        return {**_transform(contents, "expense_lines", lambda r: {**r, "receipt_id": None}), "receipts": []}
    if step == "v4":
        return _transform(contents, "expense_lines", lambda r: _rename_key(r, "description", "label"))
    if step == "v5":
        c = {("attachments" if k == "receipts" else k): v for k, v in contents.items()}
        return _transform(c, "audit_log", lambda r: {**r, "entity": "Attachment"} if r["entity"] == "Receipt" else r)
    assert step == "v6"
    return _transform(contents, "expense_lines", lambda r: {k: v for k, v in r.items() if k != "billable"})


def _before(contents: dict, step: str) -> dict:
    """What the database must hold after downgrading from ``step`` to the version before it."""
    if step == "v2":
        c = _transform(contents, "expense_lines", lambda r: {k: v for k, v in r.items() if k != "billable"})
        return _transform(c, "expense_reports", lambda r: {k: v for k, v in r.items() if k != "cost_center"})
    if step == "v3":  # the receipts table goes (it was created by this revision), the lines stay
        c = {k: v for k, v in contents.items() if k != "receipts"}
        return _transform(c, "expense_lines", lambda r: {k: v for k, v in r.items() if k != "receipt_id"})
    if step == "v4":
        return _transform(contents, "expense_lines", lambda r: _rename_key(r, "label", "description"))
    assert step == "v5"
    c = {("receipts" if k == "attachments" else k): v for k, v in contents.items()}
    return _transform(c, "audit_log", lambda r: {**r, "entity": "Receipt"} if r["entity"] == "Attachment" else r)


def _normalised(contents: dict) -> dict:
    return {table: _sorted(rows) for table, rows in contents.items()}


def _assert_append_only(url: str, step: str) -> None:
    """The audit log still refuses UPDATE and DELETE (its triggers survived the migration)."""
    engine = _engine(url)
    statements = ["UPDATE audit_log SET operation = 'forged'", "DELETE FROM audit_log"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
            pytest.fail(f"at {step}, the audit log accepted: {sql}")
    engine.dispose()


def _assert_references_hold(url: str) -> None:
    engine = _engine(url)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    engine.dispose()


# --- the proof --------------------------------------------------------------------------------------------


@pytest.fixture
def filled(series, new_database, tmp_path, monkeypatch) -> dict:
    """A database at v1, filled by the v1 app."""
    url = new_database()
    alembic(series["out"], url, "upgrade", "0001")
    seeded = _fill_v1(series["copies"]["v1"], url, tmp_path, monkeypatch)
    return {"url": url, **seeded}


def test_a_filled_database_is_upgraded_step_by_step_and_the_last_app_works_on_it(series, filled, new_database,
                                                                                   tmp_path, monkeypatch):
    out, copies, url = series["out"], series["copies"], filled["url"]
    expected = filled["contents"]
    _assert_append_only(url, "v1")
    for number, step in enumerate(STEPS[1:], start=2):
        alembic(out, url, "upgrade", f"{number:04d}")
        expected = _after(expected, step)
        assert _normalised(_contents(url)) == _normalised(expected), f"data changed by the upgrade to {step}"
        _assert_append_only(url, step)
        _assert_references_hold(url)
        if step == "v3":
            receipt = _add_receipt_v3(copies["v3"], url, tmp_path, monkeypatch, filled)
            expected = _contents(url)
            assert len(expected["receipts"]) == 1
            assert [r["entity"] for r in expected["audit_log"]].count("Receipt") == 1
    # The schema is the last version's, exactly.
    models = import_package_module(copies["v6"], "expenses.models")
    assert model_differences(url, models) == []
    assert "No new upgrade operations detected" in alembic(out, url, "check").stdout
    reference = new_database()
    engine = _engine(reference)
    models.Base.metadata.create_all(engine)
    engine.dispose()
    sqlite = url.startswith("sqlite")
    assert _comparable(schema_snapshot(url), sqlite) == _comparable(schema_snapshot(reference), sqlite)
    # Downgrading past the dropped column is refused before anything changes.
    proc = alembic(out, url, "downgrade", "0005", check=False)
    assert proc.returncode != 0 and "cannot be downgraded" in proc.stderr
    assert _normalised(_contents(url)) == _normalised(expected)

    _use_the_last_app(copies["v6"], url, tmp_path, monkeypatch, filled, receipt)


def _use_the_last_app(out: Path, url: str, tmp_path: Path, monkeypatch, seeded: dict, receipt: str) -> None:
    """The v6 app on the migrated database carries on where the v1 app stopped."""
    reports = seeded["reports"]
    app = _served(out, tmp_path, url, monkeypatch)
    with app.client:
        c = Client(app)
        c.login("emp", "mgr", "fin")
        # The manager's approval recorded at v1 still counts: finance's completes it.
        assert c.call("POST", f"/expense-reports/{reports['lyon']}/approve", "fin")["status"] == "approved"
        ids = {name: str(i) for name, i in seeded["employees"].items()}
        approvals = c.call("GET", f"/expense-reports/{reports['lyon']}/approvals", "emp")["items"]
        assert [(a["role"], a["approver_id"], a["outcome"]) for a in approvals] == [
            ("manager", ids["mgr"], "counted"), ("finance", ids["fin"], "counted")]
        # Its history: written by the v1 app, then by this one (a partial approval is no transition).
        history = c.call("GET", f"/expense-reports/{reports['lyon']}/history", "emp")["items"]
        assert [(e["operation"], e["name"], e["actor_id"]) for e in history] == [
            ("create", None, ids["emp"]), ("transition", "submit", ids["emp"]), ("transition", "approve", ids["fin"])]
        # The receipt's trail, written when the entity was called Receipt, is the attachment's.
        trail = c.call("GET", f"/attachments/{receipt}/history", "emp")["items"]
        assert [(e["operation"], e["changes"]["file_name"]["new"]) for e in trail] == [("create", "lunch.pdf")]
        lunch = c.call("GET", f"/expense-lines/{seeded['lunch']}", "emp")
        assert (lunch["label"], lunch["amount"], lunch["receipt_id"]) == ("Lunch", "0.02", receipt)
        messages = [n["message"] for n in c.call("GET", "/me/notifications", "emp")["items"]]
        assert sorted(messages) == sorted(["Your report Office was approved", "Your report Office was paid",
                                           "Your report Big was rejected", "Your report Lyon trip was approved"])
        # The v1 payment's idempotency record: the same request is answered again, not refused.
        response = c.app.client.post(f"{API}/expense-reports/{reports['office']}/pay", headers={
            "Authorization": f"Bearer {c.tokens['fin']}", "Idempotency-Key": "pay-office-1"})
        assert response.status_code == 200 and response.headers.get("Idempotent-Replayed") == "true"
        # The new state and the new constraints work.
        assert c.call("POST", f"/expense-reports/{reports['draft']}/withdraw", "emp")["status"] == "withdrawn"
        fresh = c.call("POST", "/expense-reports", "emp", 201, json={"title": "Berlin " * 40})["id"]
        talk = c.call("POST", "/expense-lines", "emp", 201, json={
            "report_id": fresh, "spent_on": "2024-05-01", "label": "Talk", "category": "conference",
            "amount": "12345678901.23"})  # more digits than v1's amounts had
        assert c.call("GET", f"/expense-lines/{talk['id']}", "emp")["amount"] == "12345678901.23"
        c.call("POST", "/attachments", "emp", 409, json={"report_id": fresh, "file_name": "x.pdf",
                                                         "sha256": "ab" * 32, "size_bytes": 1})
    app.close()


def test_reversible_revisions_downgrade_step_by_step_without_losing_data(series, filled, tmp_path, monkeypatch):
    out, copies, url = series["out"], series["copies"], filled["url"]
    alembic(out, url, "upgrade", "0003")
    _add_receipt_v3(copies["v3"], url, tmp_path, monkeypatch, filled)
    alembic(out, url, "upgrade", "0005")
    contents = _contents(url)
    assert len(contents["attachments"]) == 1
    for number, step in ((4, "v5"), (3, "v4"), (2, "v3"), (1, "v2")):
        alembic(out, url, "downgrade", f"{number:04d}")
        contents = _before(contents, step)
        assert _normalised(_contents(url)) == _normalised(contents), f"data changed by the downgrade from {step}"
        _assert_append_only(url, step)
        _assert_references_hold(url)
    assert model_differences(url, import_package_module(copies["v1"], "expenses.models")) == []

