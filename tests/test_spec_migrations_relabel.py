"""The support tables through spec migrations: the audit log, approvals and notifications.

They name the entity of each row (the app finds a record's history, pending approvals and
notifications by that name), so renaming an entity must carry its rows along: here the expenses
example's ExpenseReport (audited, with approvals and notifications) becomes ExpenseClaim, on a
database the v1 app filled, up and down on SQLite and PostgreSQL, the audit log's append-only
guard lifted for the relabelling only and restored; the claims app then completes the approval
the manager gave before the rename. An entity renamed in place (its `table:` kept) is still a
revision. And a revision that copies the audit log on SQLite (SQLite drops a table's triggers
with it) creates the append-only triggers again.
"""

from __future__ import annotations

import json
import shutil

from sqlalchemy import text

from generator.ir import build_ir
from generator.targets.schema_diff import diff_schemas, schema_equal
from generator.targets.schema_snapshot import schema_of
from tests.generated_app import import_package_module
from tests.test_generated_migrations import (_engine, alembic, model_differences, new_database,  # noqa: F401
                                             pg_admin, pg_databases)
from tests.test_spec_migrations import _edit, _revisions
from tests.test_spec_migrations_expenses import (EXPENSES, REPORTS, Client, _assert_append_only, _contents,
                                                 _fill_v1, _generate, _normalised, _served, _transform, versions)



def _renamed_report_spec() -> dict[str, str]:
    """v1 with ExpenseReport renamed ExpenseClaim (audited, with approvals and notifications)."""
    files = {name: source.replace("ExpenseReport", "ExpenseClaim") for name, source in versions()[0][1].items()}
    files[REPORTS] = _edit(files[REPORTS], "  ExpenseClaim:\n", "  ExpenseClaim:\n    renamed_from: ExpenseReport\n")
    return files


def _relabelled(contents: dict, old: str, new: str) -> dict:
    """``contents`` with the support tables' rows of entity ``old`` naming ``new`` (and its table renamed)."""
    c = {("expense_claims" if k == "expense_reports" else k): v for k, v in contents.items()}
    c = _transform(c, "audit_log", lambda r: {**r, "entity": new} if r["entity"] == old else r)
    c = _transform(c, "notification_outbox", lambda r: {**r, "entity": new} if r["entity"] == old else r)

    def approval(r: dict) -> dict:
        if r["entity"] != old:
            return r
        key = r["pending_key"]
        return {**r, "entity": new, "pending_key": None if key is None else new + key[len(old):]}

    return _transform(c, "workflow_approvals", approval)


def test_a_renamed_audited_workflow_entity_keeps_its_trail_approvals_and_notifications(
        tmp_path, new_database, monkeypatch):
    spec_dir, out = tmp_path / "spec" / "expenses", tmp_path / "out"
    shutil.copytree(EXPENSES, spec_dir)
    assert _generate(spec_dir, out) == 0
    shutil.copytree(out, tmp_path / "out_v1")
    for rel, source in _renamed_report_spec().items():
        (spec_dir / rel).write_text(source, encoding="utf-8")
    assert _generate(spec_dir, out) == 0
    [revision] = [p for p in _revisions(out) if p.startswith("0002_")]
    source = (out / "migrations/versions" / revision).read_text(encoding="utf-8")
    assert 'op.rename_table("expense_reports", "expense_claims")' in source
    assert "UPDATE audit_log SET entity" in source and "DISABLE TRIGGER" in source

    url = new_database()
    alembic(out, url, "upgrade", "0001")
    seeded = _fill_v1(tmp_path / "out_v1", url, tmp_path, monkeypatch)
    v1 = seeded["contents"]
    assert any(r["pending_key"] for r in v1["workflow_approvals"])  # the Lyon report's manager approval
    alembic(out, url, "upgrade", "0002")
    assert _normalised(_contents(url)) == _normalised(_relabelled(v1, "ExpenseReport", "ExpenseClaim"))
    _assert_append_only(url, "v2")
    assert model_differences(url, import_package_module(out, "expenses.models")) == []
    alembic(out, url, "downgrade", "0001")
    assert _normalised(_contents(url)) == _normalised(v1)
    _assert_append_only(url, "v1")
    alembic(out, url, "upgrade", "0002")

    reports, ids = seeded["reports"], {name: str(i) for name, i in seeded["employees"].items()}
    app = _served(out, tmp_path, url, monkeypatch)
    with app.client:
        c = Client(app)
        c.login("emp", "fin")
        assert c.call("POST", f"/expense-claims/{reports['lyon']}/approve", "fin")["status"] == "approved"
        history = c.call("GET", f"/expense-claims/{reports['lyon']}/history", "emp")["items"]
        assert [(e["operation"], e["name"], e["actor_id"]) for e in history] == [
            ("create", None, ids["emp"]), ("transition", "submit", ids["emp"]), ("transition", "approve", ids["fin"])]
        inbox = c.call("GET", "/me/notifications", "emp")["items"]
        assert {n["message"] for n in inbox} >= {"Your report Office was paid", "Your report Big was rejected"}
    app.close()


def test_an_entity_renamed_in_place_relabels_its_rows(validate):
    """Only the entity's name changes (its table is kept by `table:`): still a revision, the rows follow."""
    spec = ("keel: 1\napp: {name: shop, title: Shop, version: '1.0.0'}\nentities:\n"
            "  Customer:\n    table: customers\n    audit: true\n    permissions: {all: 'true'}\n"
            "    fields:\n      name: string\n")

    def schema(text_: str) -> dict:
        result = validate(text_)
        assert result.ok, result.diagnostics
        return schema_of(build_ir(result.spec, result.source_map, result.root))

    old = schema(spec)
    new = schema(spec.replace("  Customer:\n", "  Client:\n    renamed_from: Customer\n"))
    assert not schema_equal(old, new)
    diff = diff_schemas(old, new)
    assert not diff.losses and not diff.blockers
    [step] = diff.steps
    up, down = "\n".join(step.up), "\n".join(step.down or ())
    assert "rename_table" not in up and "bindparams(old='Customer', new='Client')" in up
    assert "bindparams(old='Client', new='Customer')" in down
    for text_ in (up, down):  # the append-only guard is lifted and put back, on each dialect
        assert text_.index("DISABLE TRIGGER") < text_.index("UPDATE audit_log") < text_.index("ENABLE TRIGGER")
        assert text_.index('DROP TRIGGER "audit_log_no_update"') < text_.index("UPDATE audit_log") \
            < text_.index("CREATE TRIGGER audit_log_no_update")
    # Without a table that names entities, renaming one in place changes nothing in the database.
    plain = spec.replace("    audit: true\n", "")
    renamed = plain.replace("  Customer:\n", "  Client:\n    renamed_from: Customer\n")
    assert schema_equal(schema(plain), schema(renamed))


def test_a_change_to_the_audit_log_keeps_it_append_only(tmp_path, new_database):
    """A later Keel that changes the audit_log table (here: a wider request id) writes a revision that
    on SQLite copies the table, which drops its triggers; the revision creates them again."""
    spec_dir, out = tmp_path / "spec" / "expenses", tmp_path / "out"
    shutil.copytree(EXPENSES, spec_dir)
    assert _generate(spec_dir, out) == 0
    url = new_database()
    alembic(out, url, "upgrade", "0001")
    engine = _engine(url)
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(text("INSERT INTO audit_log (at, entity, record_id, operation, changes, request_id) "
                              "VALUES (CURRENT_TIMESTAMP, 'ExpenseReport', :r, 'create', '{}', :q)"),
                         {"r": f"r{i}", "q": f"q{i}"})
    engine.dispose()
    before = _contents(url)["audit_log"]
    # The snapshot as an older Keel would have written it: request_id narrower than today's.
    path = out / "migrations/schema_snapshot.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    [column] = [c for c in doc["tables"]["audit_log"]["columns"] if c["name"] == "request_id"]
    assert column["type"] == "String(128)"
    column["type"] = "String(64)"
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert _generate(spec_dir, out, "--force") == 0  # (the manifest knows the snapshot was edited)
    [revision] = [p for p in _revisions(out) if p.startswith("0002_")]
    assert 'op.batch_alter_table("audit_log")' in (out / "migrations/versions" / revision).read_text(encoding="utf-8")
    alembic(out, url, "upgrade", "0002")
    assert _contents(url)["audit_log"] == before
    _assert_append_only(url, "0002")
    alembic(out, url, "downgrade", "0001")
    assert _contents(url)["audit_log"] == before
    _assert_append_only(url, "0001")
