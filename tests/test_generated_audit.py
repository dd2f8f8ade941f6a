"""The audit trail and notifications of a generated app, over HTTP, on SQLite and PostgreSQL.

The expenses example (ExpenseReport and ExpenseLine are audited; reports notify their
submitter on approve, reject and pay), the task manager (a `changed` notification on a
task's assignee) and a small spec written here, `vault`, whose audited user entity has a
password. Checked: each create, update and delete writes exactly the expected audit rows
(old and new values, the acting user, the allowing rule, the request id) in the transaction
of the change; refused requests write none; passwords never reach the trail; the history
endpoint obeys the record's read rule and pages; audit rows cannot be changed, even in SQL;
notifications are written only when their transaction commits and read only by their
recipient; the dispatcher delivers each notification once, also with two dispatchers at once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from tests.generated_app import import_package_module
from tests.test_generated_auth import PASSWORD, BACKENDS, new_database, pg_admin, serve, signup  # noqa: F401

EXPENSES = "/api/v1"


def _hash(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


class Expenses:
    """The expenses app with four employees signed in."""

    def __init__(self, app: Any, out: Path) -> None:
        self.app, self.out, self.models = app, out, app.models
        E = self.models.Employee
        self.ids: dict[str, uuid.UUID] = {}
        hashed = _hash(PASSWORD)
        with app.db() as session:
            for name, role in (("emp", "employee"), ("other", "employee"), ("mgr", "manager"), ("fin", "finance")):
                self.ids[name] = uuid.uuid4()
                session.execute(insert(E).values(id=self.ids[name], email=f"{name}@example.test", full_name=name,
                                                 password_hash=hashed, role=role, active=True, lock_version=1))
            session.commit()
        self.tokens = {}
        for name in self.ids:
            response = app.client.post(f"{EXPENSES}/auth/login", json={"email": f"{name}@example.test",
                                                                      "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.tokens[name] = response.json()["access_token"]

    def call(self, method: str, path: str, who: str | None = None, request_id: str | None = None, **kwargs: Any):
        headers = kwargs.pop("headers", {})
        if who:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        if request_id:
            headers["X-Request-ID"] = request_id
        return self.app.client.request(method, EXPENSES + path, headers=headers, **kwargs)

    def audit(self) -> list[Any]:
        A = self.models.AuditLogEntry
        with self.app.db() as session:
            return list(session.scalars(select(A).order_by(A.id)))

    def outbox(self) -> list[Any]:
        N = self.models.NotificationOutbox
        with self.app.db() as session:
            return list(session.scalars(select(N).order_by(N.id)))

    def report(self, who: str = "emp", title: str = "Trip") -> dict:
        response = self.call("POST", "/expense-reports", who, json={"title": title})
        assert response.status_code == 201, response.text
        return response.json()

    def line(self, report: dict, who: str = "emp", amount: str = "12.50") -> dict:
        response = self.call("POST", "/expense-lines", who, json={
            "report_id": report["id"], "spent_on": "2024-01-02", "description": "Taxi", "category": "travel",
            "amount": amount})
        assert response.status_code == 201, response.text
        return response.json()

    def async_database(self) -> Any:
        """A second Database of the app (another 'process'), with its TrackedSession."""
        db = import_package_module(self.out, "expenses.db", fresh=False)
        settings = import_package_module(self.out, "expenses.settings", fresh=False)
        return db.Database(settings.async_database_url(self.app.url))


@pytest.fixture
def expenses(tmp_path, monkeypatch, new_database):
    app, out = serve("expenses", tmp_path, new_database(), monkeypatch)
    with app.client:
        yield Expenses(app, out)
    app.close()


def _changes(row: Any) -> dict:
    return row.changes if isinstance(row.changes, dict) else json.loads(row.changes)


# --- capture ----------------------------------------------------------------------------------------


@BACKENDS
def test_create_update_delete_write_exactly_the_expected_rows(expenses):
    emp = str(expenses.ids["emp"])
    report = expenses.report()
    rows = expenses.audit()
    assert [(r.entity, r.record_id, r.operation, r.actor_id, r.rule) for r in rows] == [
        ("ExpenseReport", report["id"], "create", emp, "ExpenseReport.create.1")]
    assert _changes(rows[0]) == {
        "title": {"old": None, "new": "Trip"}, "currency": {"old": None, "new": "EUR"},
        "submitter_id": {"old": None, "new": emp}, "status": {"old": None, "new": "draft"}}
    assert rows[0].request_id and rows[0].at is not None

    response = expenses.call("PATCH", f"/expense-reports/{report['id']}", "emp", request_id="req-update-1",
                             json={"title": "Trip to Bern", "currency": "CHF"})
    assert response.status_code == 200, response.text
    line = expenses.line(report)
    response = expenses.call("PATCH", f"/expense-lines/{line['id']}", "emp", json={"amount": "99.90"})
    assert response.status_code == 200, response.text
    response = expenses.call("DELETE", f"/expense-lines/{line['id']}", "emp", request_id="req-delete-1")
    assert response.status_code == 204, response.text

    rows = expenses.audit()
    assert [(r.entity, r.operation, r.actor_id) for r in rows] == [
        ("ExpenseReport", "create", emp), ("ExpenseReport", "update", emp), ("ExpenseLine", "create", emp),
        ("ExpenseLine", "update", emp), ("ExpenseLine", "delete", emp)]
    update = rows[1]
    assert update.record_id == report["id"] and update.request_id == "req-update-1"
    assert update.rule == "ExpenseReport.update.1"
    assert _changes(update) == {"title": {"old": "Trip", "new": "Trip to Bern"},
                                "currency": {"old": "EUR", "new": "CHF"}}
    assert _changes(rows[3]) == {"amount": {"old": "12.50", "new": "99.90"}}
    assert rows[4].record_id == line["id"] and rows[4].request_id == "req-delete-1"
    assert rows[4].rule == "ExpenseLine.delete.1"
    assert _changes(rows[4]) == {"report_id": {"old": report["id"], "new": None},
                                 "spent_on": {"old": "2024-01-02", "new": None},
                                 "description": {"old": "Taxi", "new": None},
                                 "category": {"old": "travel", "new": None},
                                 "amount": {"old": "99.90", "new": None}}
    assert all(r.at is not None for r in rows)


@BACKENDS
def test_a_deleted_report_records_the_lines_the_database_deletes_with_it(expenses):
    report = expenses.report()
    first, second = expenses.line(report), expenses.line(report, amount="3.00")
    before = len(expenses.audit())
    assert expenses.call("DELETE", f"/expense-reports/{report['id']}", "emp").status_code == 204
    rows = expenses.audit()[before:]
    assert sorted((r.entity, r.record_id, r.operation) for r in rows) == sorted([
        ("ExpenseLine", first["id"], "delete"), ("ExpenseLine", second["id"], "delete"),
        ("ExpenseReport", report["id"], "delete")])
    assert {r.rule for r in rows if r.entity == "ExpenseReport"} == {"ExpenseReport.delete.1"}


@BACKENDS
def test_refused_requests_write_no_audit_row(expenses):
    report = expenses.report()
    line = expenses.line(report)
    before = [(r.id, r.operation) for r in expenses.audit()]
    path = f"/expense-reports/{report['id']}"
    refused = [
        expenses.call("PATCH", path, "other", json={"title": "mine now"}),  # may not read it: 404
        expenses.call("PATCH", path, "mgr", json={"title": "managed"}),  # may read, not change: 403
        expenses.call("DELETE", path, "mgr"),  # 403
        expenses.call("PATCH", path, "emp", json={"title": ""}),  # 422
        expenses.call("PATCH", path, "emp", json={"status": "approved"}),  # 422: server-managed
        expenses.call("PATCH", path, "emp", json={"title": "x"}, headers={"If-Match": '"v99"'}),  # 412
        expenses.call("POST", "/expense-lines", "other", json={  # 403: not the report's submitter
            "report_id": report["id"], "spent_on": "2024-01-02", "description": "x", "category": "travel",
            "amount": "1.00"}),
        expenses.call("POST", "/expense-lines", "emp", json={  # 422: an invariant (dated in the future)
            "report_id": report["id"], "spent_on": "2999-01-02", "description": "x", "category": "travel",
            "amount": "1.00"}),
        expenses.call("PATCH", f"/expense-lines/{line['id']}", "mgr", json={"amount": "1.00"}),  # 403
        expenses.call("PATCH", path, None, json={"title": "anonymous"}),  # 401
    ]
    assert [r.status_code for r in refused] == [404, 403, 403, 422, 422, 412, 403, 422, 403, 401], \
        [r.text for r in refused]
    assert [(r.id, r.operation) for r in expenses.audit()] == before


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_audit_rows_cannot_be_changed_even_in_sql(expenses):
    expenses.report()
    for statement in ("UPDATE audit_log SET actor_id = 'someone else'", "DELETE FROM audit_log"):
        with expenses.app.db() as session, pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
            session.commit()
    assert len(expenses.audit()) == 1
    # ... and the API has no way to: only GET is routed.
    response = expenses.call("DELETE", f"/expense-reports/{expenses.audit()[0].record_id}/history", "emp")
    assert response.status_code == 405


# --- reading the trail ------------------------------------------------------------------------------


@BACKENDS
def test_history_follows_the_records_read_rule_and_pages(expenses):
    report = expenses.report()
    for title in ("One", "Two", "Three"):
        assert expenses.call("PATCH", f"/expense-reports/{report['id']}", "emp", json={"title": title}).status_code == 200
    path = f"/expense-reports/{report['id']}/history"
    for who in ("emp", "mgr", "fin"):
        response = expenses.call("GET", path, who)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert [i["operation"] for i in items] == ["create", "update", "update", "update"]
        assert items[1]["changes"] == {"title": {"old": "Trip", "new": "One"}}
        assert items[1]["actor_id"] == str(expenses.ids["emp"]) and items[1]["rule"] == "ExpenseReport.update.1"
    for who in ("other", None):  # may not read the record: 404, exactly as for the record itself
        response = expenses.call("GET", path, who)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert expenses.call("GET", f"/expense-reports/{uuid.uuid4()}/history", "mgr").status_code == 404
    assert expenses.call("GET", "/expense-reports/not-an-id/history", "mgr").status_code == 404

    seen, cursor = [], None
    while True:
        response = expenses.call("GET", path + "?limit=3" + (f"&cursor={cursor}" if cursor else ""), "emp")
        assert response.status_code == 200, response.text
        seen += [i["id"] for i in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4 and seen == sorted(seen)
    assert expenses.call("GET", path + "?cursor=garbage", "emp").status_code == 400
    assert expenses.call("GET", path + "?limit=0", "emp").status_code == 422
    assert expenses.call("GET", path + "?nope=1", "emp").status_code == 422

    line = expenses.line(report)
    assert expenses.call("GET", f"/expense-lines/{line['id']}/history", "other").status_code == 404
    items = expenses.call("GET", f"/expense-lines/{line['id']}/history", "fin").json()["items"]
    assert [(i["operation"], i["changes"]["amount"]) for i in items] == [("create", {"old": None, "new": "12.50"})]


VAULT_SPEC = """\
keel: 1
app: {name: vault, title: Vault, version: "0.1.0"}
api: {prefix: /api}
auth:
  user: Member
  identity: email
  password: password
  roles: [admin, member]
  default_role: member
  signup: true
entities:
  Member:
    audit: true
    fields:
      email: {type: email, unique: true}
      password: {type: password, min_length: 8}
      name: string
      secret_note:
        type: string
        required: false
        access:
          read: user == record
          write: user == record
    permissions:
      list: user != null
      read: user != null
      update: user == record
"""


@BACKENDS
def test_passwords_never_reach_the_trail(tmp_path, monkeypatch, new_database):
    from tests.test_generated_permissions import _serve

    spec = tmp_path / "vault_spec"
    spec.mkdir()
    (spec / "keel.yaml").write_text(VAULT_SPEC, encoding="utf-8")
    api, models = _serve(spec, "vault", "/api", tmp_path, new_database(), monkeypatch)
    with api.client:
        token = api.signup("ada@example.test")
        bob = api.signup("bob@example.test")
        me = api.call("GET", "/me", token).json()
        member_id = me.get("id") or me.get("user", {}).get("id")
        response = api.call("PATCH", f"/members/{member_id}", token, json={"name": "Ada L", "secret_note": "s3"})
        assert response.status_code == 200, response.text
        from sqlalchemy import create_engine
        from sqlalchemy.orm import Session

        engine = create_engine(api.url)
        with Session(engine) as session:
            rows = list(session.scalars(select(models.AuditLogEntry).order_by(models.AuditLogEntry.id)))
            stored_hash = session.scalar(select(models.Member.password_hash).where(models.Member.email == "ada@example.test"))
        engine.dispose()
        dump = json.dumps([r.changes for r in rows])
        assert [r.operation for r in rows] == ["create", "create", "update"]
        assert _changes(rows[0])["password"] == {"old": None, "new": "[redacted]"}
        assert PASSWORD not in dump and stored_hash not in dump and "$argon2" not in dump
        # A field with its own read rule is recorded, but the history shows it redacted to everyone.
        assert _changes(rows[2]) == {"name": {"old": "ada@example.test", "new": "Ada L"},
                                     "secret_note": {"old": None, "new": "s3"}}
        for who in (token, bob):
            items = api.call("GET", f"/members/{member_id}/history", who).json()["items"]
            assert items[-1]["changes"]["secret_note"] == {"old": None, "new": "[redacted]"}
            assert "s3" not in json.dumps(items) and PASSWORD not in json.dumps(items)


# --- notifications ----------------------------------------------------------------------------------


async def _approve(expenses: Expenses, report_id: str, commit: bool) -> None:
    """A transition as the workflow code performs it: change the state, label it, commit (or not)."""
    audit = import_package_module(expenses.out, "expenses.audit", fresh=False)
    database = expenses.async_database()
    try:
        async for session in database.write_session():
            Report = expenses.models.ExpenseReport
            row = (await session.scalars(select(Report).where(Report.id == uuid.UUID(report_id)))).one()
            row.status = "approved"
            audit.record_operation(session, row, "transition", "approve", rule="ExpenseReport.approve.1")
            if commit:
                await session.commit()
            else:
                await session.rollback()
    finally:
        await database.dispose()


@BACKENDS
def test_transition_notifications_are_written_only_on_commit(expenses):
    report = expenses.report(title="Bern")
    before = len(expenses.audit())
    asyncio.run(_approve(expenses, report["id"], commit=False))
    assert expenses.outbox() == [] and len(expenses.audit()) == before

    asyncio.run(_approve(expenses, report["id"], commit=True))
    [row] = expenses.outbox()
    assert (row.recipient_id, row.notification, row.entity, row.record_id, row.message) == (
        expenses.ids["emp"], "decided", "ExpenseReport", report["id"], "Your report Bern was approved")
    assert row.delivered_at is None and row.read_at is None
    transition = expenses.audit()[-1]
    assert (transition.operation, transition.name, transition.rule) == ("transition", "approve",
                                                                        "ExpenseReport.approve.1")
    assert _changes(transition) == {"status": {"old": "draft", "new": "approved"}}


@BACKENDS
def test_notify_transition_directly(expenses):
    notifications = import_package_module(expenses.out, "expenses.notifications", fresh=False)
    report = expenses.report(title="Paris")

    async def pay() -> None:
        database = expenses.async_database()
        try:
            async for session in database.write_session():
                Report = expenses.models.ExpenseReport
                row = (await session.scalars(select(Report).where(Report.id == uuid.UUID(report["id"])))).one()
                row.status = "paid"
                notifications.notify_transition(session, row, "pay")
                notifications.notify_transition(session, row, "submit")  # no notification declared: nothing
                await session.commit()
        finally:
            await database.dispose()

    asyncio.run(pay())
    assert [(r.notification, r.message) for r in expenses.outbox()] == [("paid", "Your report Paris was paid")]
    # Without record_operation the change is still audited, as a plain update.
    assert expenses.audit()[-1].operation == "update"


@BACKENDS
def test_notifications_are_read_only_by_their_recipient(expenses):
    report = expenses.report(title="Rome")
    asyncio.run(_approve(expenses, report["id"], commit=True))
    mine = expenses.call("GET", "/me/notifications", "emp")
    assert mine.status_code == 200, mine.text
    [item] = mine.json()["items"]
    assert item["message"] == "Your report Rome was approved" and item["read_at"] is None
    for who in ("other", "mgr"):
        assert expenses.call("GET", "/me/notifications", who).json()["items"] == []
        response = expenses.call("POST", f"/me/notifications/{item['id']}/read", who)
        assert response.status_code == 404
    assert expenses.call("GET", "/me/notifications", None).status_code == 401
    response = expenses.call("POST", f"/me/notifications/{item['id']}/read", "emp")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert expenses.call("POST", f"/me/notifications/{item['id']}/read", "emp").status_code == 200  # idempotent
    assert expenses.call("GET", "/me/notifications?unread=true", "emp").json()["items"] == []
    assert len(expenses.call("GET", "/me/notifications?unread=false", "emp").json()["items"]) == 1
    assert expenses.call("POST", "/me/notifications/not-a-uuid/read", "emp").status_code == 404


@BACKENDS
def test_a_changed_notification_through_http(tmp_path, monkeypatch, new_database):
    """tasks: `assigned` (event changed, field assignee) fires when a PATCH sets the assignee."""
    app, out = serve("tasks", tmp_path, new_database(), monkeypatch)
    with app.client:
        ada, bob = signup(app, "ada@example.test"), signup(app, "bob@example.test")
        h = {"Authorization": f"Bearer {ada['access_token']}"}
        project = app.client.post(f"{app.prefix}/projects", headers=h, json={"name": "Moon"}).json()
        bob_id = bob["user"]["id"]
        with app.db() as session:
            project_members = app.models.project_members
            session.execute(insert(project_members).values(project_id=uuid.UUID(project["id"]),
                                                           user_id=uuid.UUID(bob_id)))
            session.commit()
        task = app.client.post(f"{app.prefix}/tasks", headers=h, json={"title": "Land", "project_id": project["id"]})
        assert task.status_code == 201, task.text
        refused = app.client.patch(f"{app.prefix}/tasks/{task.json()['id']}", headers=h,
                                   json={"assignee_id": str(uuid.uuid4())})
        assert refused.status_code == 422
        response = app.client.patch(f"{app.prefix}/tasks/{task.json()['id']}", headers=h,
                                    json={"assignee_id": bob_id})
        assert response.status_code == 200, response.text
        response = app.client.patch(f"{app.prefix}/tasks/{task.json()['id']}", headers=h, json={"title": "Land!"})
        assert response.status_code == 200  # the assignee did not change: no new notification
        inbox = app.client.get(f"{app.prefix}/me/notifications",
                               headers={"Authorization": f"Bearer {bob['access_token']}"}).json()["items"]
        assert [i["message"] for i in inbox] == ["You were assigned Land"]
        assert app.client.get(f"{app.prefix}/me/notifications", headers=h).json()["items"] == []
    app.close()


# --- delivery ---------------------------------------------------------------------------------------


def _fill_outbox(expenses: Expenses, count: int) -> None:
    N = expenses.models.NotificationOutbox
    with expenses.app.db() as session:
        session.execute(insert(N), [
            {"event_id": uuid.uuid4(), "recipient_id": expenses.ids["emp"], "notification": "decided",
             "entity": "ExpenseReport", "record_id": str(i), "message": f"message {i}", "attempts": 0}
            for i in range(count)])
        session.commit()


@BACKENDS
def test_two_dispatchers_deliver_each_notification_once(expenses):
    notifications = import_package_module(expenses.out, "expenses.notifications", fresh=False)
    _fill_outbox(expenses, 60)
    delivered: list[tuple[str, str]] = []

    def sender(name: str):
        async def send(delivery) -> None:
            await asyncio.sleep(0.001)
            delivered.append((name, delivery.event_id))
        return send

    async def run() -> None:
        databases = [expenses.async_database(), expenses.async_database()]  # two engines: two "processes"
        try:
            dispatchers = [notifications.Dispatcher(db, sender(f"d{i}"), batch=7)
                           for i, db in enumerate(databases)]

            async def drain(d) -> None:
                while await d.run_once():
                    pass

            await asyncio.gather(*(drain(d) for d in dispatchers))
        finally:
            for db in databases:
                await db.dispose()

    asyncio.run(run())
    events = [e for _, e in delivered]
    assert len(events) == 60 and len(set(events)) == 60
    rows = expenses.outbox()
    assert all(r.delivered_at is not None and r.attempts == 1 for r in rows)
    assert {str(r.event_id) for r in rows} == set(events)


@BACKENDS
def test_a_failed_delivery_is_retried_later(expenses):
    notifications = import_package_module(expenses.out, "expenses.notifications", fresh=False)
    _fill_outbox(expenses, 2)

    async def failing(delivery) -> None:
        raise ConnectionError("webhook down")

    async def run(sender) -> int:
        database = expenses.async_database()
        try:
            return await notifications.Dispatcher(database, sender, backoff_seconds=0).run_once()
        finally:
            await database.dispose()

    assert asyncio.run(run(failing)) == 0
    rows = expenses.outbox()
    assert all(r.delivered_at is None and r.attempts == 1 and "webhook down" in r.last_error for r in rows)
    assert asyncio.run(run(notifications.log_sender)) == 2
    assert all(r.delivered_at is not None and r.attempts == 2 for r in expenses.outbox())
    assert asyncio.run(run(notifications.log_sender)) == 0  # nothing left: delivered once


@BACKENDS
def test_transitions_through_http_are_audited_and_notify(expenses):
    """The workflow routers (POST <item>/submit, /approve, /reject, /pay) label their changes and notify."""
    report = expenses.report(title="Oslo")
    expenses.line(report)
    path = f"/expense-reports/{report['id']}"
    before = len(expenses.audit())
    refused = [expenses.call("POST", f"{path}/submit", "other"),  # may not read it
               expenses.call("POST", f"{path}/approve", "mgr"),  # not submitted yet
               expenses.call("POST", f"{path}/pay", "fin")]  # not approved
    assert [r.status_code for r in refused] == [404, 409, 409], [r.text for r in refused]
    assert len(expenses.audit()) == before and expenses.outbox() == []

    assert expenses.call("POST", f"{path}/submit", "emp").status_code == 200
    assert expenses.call("POST", f"{path}/approve", "emp").status_code == 403  # not one's own
    response = expenses.call("POST", f"{path}/approve", "mgr")
    assert response.status_code == 200, response.text
    assert expenses.call("POST", f"{path}/pay", "fin").status_code == 200
    rows = expenses.audit()[before:]
    assert [(r.operation, r.name, _changes(r).get("status")) for r in rows] == [
        ("transition", "submit", {"old": "draft", "new": "submitted"}),
        ("transition", "approve", {"old": "submitted", "new": "approved"}),
        ("transition", "pay", {"old": "approved", "new": "paid"})]
    assert [r.actor_id for r in rows] == [str(expenses.ids[n]) for n in ("emp", "mgr", "fin")]
    assert rows[0].rule is not None
    assert [(n.notification, n.recipient_id, n.message) for n in expenses.outbox()] == [
        ("decided", expenses.ids["emp"], "Your report Oslo was approved"),
        ("paid", expenses.ids["emp"], "Your report Oslo was paid")]

    other = expenses.report(title="Lima")
    expenses.line(other)
    assert expenses.call("POST", f"/expense-reports/{other['id']}/submit", "emp").status_code == 200
    response = expenses.call("POST", f"/expense-reports/{other['id']}/reject", "fin", json={"reason": "No receipt"})
    assert response.status_code == 200, response.text
    last = expenses.audit()[-1]
    assert (last.operation, last.name) == ("transition", "reject")
    assert _changes(last) == {"status": {"old": "submitted", "new": "rejected"},
                              "rejection_reason": {"old": None, "new": "No receipt"}}
    assert expenses.outbox()[-1].message == "Your report Lima was rejected"
