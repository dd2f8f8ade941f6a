"""Transitions, approvals, actions, named queries and Idempotency-Key in the generated apps, over HTTP.

On SQLite and PostgreSQL: the expense approval story (specs/expenses), the task manager's
transitions, actions and `/me/tasks` (specs/tasks), frozen fields (a variant of the expenses
spec whose update rule lets the frozen rule speak, and one with `return_to`), Idempotency-Key
replay and mismatch, and races: real concurrent requests from threads against one app (its
event loop interleaves them; the database orders them), where exactly one outcome must win
and one person's approval must count once.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from tests.conftest import REPO
from tests.generated_app import render_into
from tests.test_generated_auth import (  # noqa: F401 - fixtures
    BACKENDS, PASSWORD, App, login, new_database, pg_admin, problem, serve, signup,
)

_HASH: list[str] = []


def _password_hash() -> str:
    if not _HASH:
        from argon2 import PasswordHasher

        _HASH.append(PasswordHasher().hash(PASSWORD))
    return _HASH[0]


class Client:
    """An app and its signed-in people: ``c.post("alice", path, json=...)``."""

    def __init__(self, app: App) -> None:
        self.app, self.tokens, self.ids = app, {}, {}

    def call(self, method: str, who: str | None, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.app.client.request(method, self.app.prefix + path, headers=headers, **kwargs)

    def post(self, who: str | None, path: str, **kwargs: Any) -> Any:
        return self.call("POST", who, path, **kwargs)

    def get(self, who: str | None, path: str, **kwargs: Any) -> Any:
        return self.call("GET", who, path, **kwargs)

    def patch(self, who: str | None, path: str, **kwargs: Any) -> Any:
        return self.call("PATCH", who, path, **kwargs)

    def employee(self, name: str, role: str) -> None:
        """An expenses Employee inserted directly (sign-up is off), then signed in."""
        Employee = self.app.models.Employee
        email = f"{name}@example.test"
        with self.app.db() as session:
            session.execute(insert(Employee).values(
                id=uuid.uuid4(), email=email, full_name=name.title(), password_hash=_password_hash(), active=True,
                role=role, lock_version=1))
            session.commit()
            self.ids[name] = str(session.scalar(select(Employee.id).where(Employee.email == email)))
        response = login(self.app, email)
        assert response.status_code == 200, response.text
        self.tokens[name] = response.json()["access_token"]

    def user(self, name: str, role: str = "member") -> None:
        """A tasks User, signed up over HTTP (and promoted directly when `role` says so)."""
        body = signup(self.app, f"{name}@example.test")
        self.tokens[name], self.ids[name] = body["access_token"], body["user"]["id"]
        if role != "member":
            User = self.app.models.User
            with self.app.db() as session:
                session.execute(User.__table__.update().where(User.id == uuid.UUID(self.ids[name])).values(role=role))
                session.commit()


def race(*calls) -> list[Any]:  # type: ignore[no-untyped-def]
    """Run the calls at the same moment from threads; their responses, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


# --- expenses ----------------------------------------------------------------------------------------------


def _expenses(tmp_path: Path, url: str, monkeypatch, spec: Path | None = None) -> Client:
    out = None
    if spec is not None:
        out = tmp_path / "out"
        render_into(spec, out)
    app, _ = serve("expenses", tmp_path, url, monkeypatch, out=out)
    c = Client(app)
    app.client.__enter__()
    for name, role in [("emma", "employee"), ("mia", "manager"), ("max", "manager"), ("fay", "finance"),
                       ("finn", "finance"), ("bob", "employee")]:
        c.employee(name, role)
    return c


@pytest.fixture
def expenses(tmp_path, monkeypatch, new_database):
    c = _expenses(tmp_path, new_database(), monkeypatch)
    yield c
    c.app.client.__exit__(None, None, None)
    c.app.close()


def report(c: Client, who: str = "emma", amounts: tuple[str, ...] = ("120.00",)) -> str:
    response = c.post(who, "/expense-reports", json={"title": "Trip to Lyon"})
    assert response.status_code == 201, response.text
    report_id = response.json()["id"]
    for amount in amounts:
        line = c.post(who, "/expense-lines", json={"report_id": report_id, "spent_on": "2024-05-01",
                                                   "description": "Train", "category": "travel", "amount": amount})
        assert line.status_code == 201, line.text
    return report_id


def approvals(c: Client, report_id: str) -> list[tuple[str, str, str | None]]:
    Approval = c.app.models.WorkflowApproval
    with c.app.db() as session:
        rows = session.scalars(select(Approval).where(Approval.record_id == report_id)
                               .order_by(Approval.approved_at)).all()
        return [(r.role, r.approver_id, r.outcome) for r in rows]


@BACKENDS
def test_the_expense_approval_story(expenses):
    c = expenses
    empty = report(c, amounts=())
    body = problem(c.post("emma", f"/expense-reports/{empty}/submit"), 409, "guard_failed")
    assert body["rule"] == "ExpenseReport.submit.guard"
    assert "number of the record's lines" in body["explanation"]  # development mode explains

    small = report(c, amounts=("120.00", "80.50"))
    assert problem(c.post("bob", f"/expense-reports/{small}/submit"), 404, "not_found")  # bob cannot see it
    refused = problem(c.post("mia", f"/expense-reports/{small}/submit"), 403, "forbidden")
    assert refused["rule"] == "ExpenseReport.submit"  # no allow rule holds: the operation is named
    problem(c.post("mia", f"/expense-reports/{small}/approve"), 409, "invalid_transition")  # still a draft
    problem(c.post(None, f"/expense-reports/{small}/submit"), 401, "authentication_required")
    submitted = c.post("emma", f"/expense-reports/{small}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted" and submitted.headers["ETag"] == '"v2"'
    assert submitted.json()["total"] == "200.50"  # the computed field, selected with the record
    again = problem(c.post("emma", f"/expense-reports/{small}/submit"), 409, "invalid_transition")
    assert again["state"] == "submitted" and again["allowed_from"] == ["draft"]

    # The state field is never written directly, and a submitted report's fields are refused (update rule: draft).
    problem(c.patch("emma", f"/expense-reports/{small}", json={"status": "approved"}), 422, "validation_failed")
    assert problem(c.patch("emma", f"/expense-reports/{small}", json={"title": "x"}), 403, "forbidden")
    line = c.post("emma", "/expense-lines", json={"report_id": small, "spent_on": "2024-05-02",
                                                  "description": "Taxi", "category": "travel", "amount": "10.00"})
    assert line.status_code in (403, 409), line.text  # refused: the line rule needs a draft report

    # The submitter can never approve their own report; a plain employee is not an approver.
    problem(c.post("emma", f"/expense-reports/{small}/approve"), 403, "forbidden")
    assert problem(c.post("bob", f"/expense-reports/{small}/approve"), 404, "not_found")["code"] == "not_found"
    # <= 1000: one manager approval is enough.
    approved = c.post("mia", f"/expense-reports/{small}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approvals(c, small) == [("manager", c.ids["mia"], "counted")]
    listed = c.get("emma", f"/expense-reports/{small}/approvals").json()["items"]
    assert [(a["role"], a["approver_id"], a["outcome"], a["step"]) for a in listed] == [
        ("manager", c.ids["mia"], "counted", 1)]

    # Paying is for finance only, and only once approved.
    problem(c.post("mia", f"/expense-reports/{small}/pay"), 403, "forbidden")
    paid = c.post("fay", f"/expense-reports/{small}/pay")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    problem(c.post("fay", f"/expense-reports/{small}/pay"), 409, "invalid_transition")

    # > 1000: manager and finance, two different people; the same manager twice counts once.
    big = report(c, amounts=("900.00", "300.00"))
    assert c.post("emma", f"/expense-reports/{big}/submit").status_code == 200
    first = c.post("mia", f"/expense-reports/{big}/approve")
    assert first.status_code == 202 and first.json()["status"] == "submitted"
    problem(c.post("mia", f"/expense-reports/{big}/approve"), 409, "already_approved")
    problem(c.post("max", f"/expense-reports/{big}/approve"), 409, "approval_not_needed")
    problem(c.post("emma", f"/expense-reports/{big}/approve"), 403, "forbidden")
    assert approvals(c, big) == [("manager", c.ids["mia"], None)]
    done = c.post("fay", f"/expense-reports/{big}/approve")
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert sorted(approvals(c, big)) == sorted([("manager", c.ids["mia"], "counted"),
                                                ("finance", c.ids["fay"], "counted")])

    # Rejection needs a reason (input), by a manager or finance who is not the submitter; it sets the reason.
    third = report(c, amounts=("50.00",))
    assert c.post("emma", f"/expense-reports/{third}/submit").status_code == 200
    problem(c.post("mia", f"/expense-reports/{third}/reject", json={}), 422, "validation_failed")
    problem(c.post("mia", f"/expense-reports/{third}/reject", json={"reason": "x", "extra": 1}), 422,
            "validation_failed")
    refused = problem(c.post("emma", f"/expense-reports/{third}/reject", json={"reason": "no"}), 403, "forbidden")
    assert refused["rule"] == "ExpenseReport.reject.roles"
    rejected = c.post("max", f"/expense-reports/{third}/reject", json={"reason": "Missing receipts"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["rejection_reason"] == "Missing receipts"
    problem(c.post("mia", f"/expense-reports/{third}/approve"), 409, "invalid_transition")
    problem(c.post("emma", f"/expense-reports/{third}/submit", content=b"[1]",
                   headers={"Content-Type": "application/json"}), 422, "validation_failed")  # no input declared


@BACKENDS
def test_a_pending_approval_is_void_once_the_report_is_rejected(expenses):
    c = expenses
    big = report(c, amounts=("2000.00",))
    assert c.post("emma", f"/expense-reports/{big}/submit").status_code == 200
    assert c.post("fay", f"/expense-reports/{big}/approve").status_code == 202
    assert c.post("mia", f"/expense-reports/{big}/reject", json={"reason": "Too much"}).status_code == 200
    assert approvals(c, big) == [("finance", c.ids["fay"], "void")]


@BACKENDS
def test_idempotency_key_replays_and_refuses_a_different_request(expenses):
    c = expenses
    rid = report(c)
    key = {"Idempotency-Key": "submit-" + rid}
    first = c.post("emma", f"/expense-reports/{rid}/submit", headers=key)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    replay = c.post("emma", f"/expense-reports/{rid}/submit", headers=key)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json() and replay.headers["ETag"] == first.headers["ETag"]
    # Without the key the retry is a second attempt, refused by the state.
    problem(c.post("emma", f"/expense-reports/{rid}/submit"), 409, "invalid_transition")
    # The same key for another request: 422, nothing done.
    other = report(c)
    problem(c.post("emma", f"/expense-reports/{other}/submit", headers=key), 422, "idempotency_key_reused")
    assert c.get("emma", f"/expense-reports/{other}").json()["status"] == "draft"
    # Keys are per user: another user's same key is a fresh request.
    rejected = c.post("mia", f"/expense-reports/{rid}/reject", json={"reason": "a"}, headers=key)
    assert rejected.status_code == 200 and "Idempotent-Replayed" not in rejected.headers
    again = c.post("mia", f"/expense-reports/{rid}/reject", json={"reason": "b"}, headers=key)
    problem(again, 422, "idempotency_key_reused")
    # A refused request stores nothing: the same key can be used once the request is right.
    third = report(c)
    problem(c.post("bob", f"/expense-reports/{third}/submit", headers={"Idempotency-Key": "k2"}), 404, "not_found")
    problem(c.post("emma", f"/expense-reports/{third}/submit", headers={"Idempotency-Key": "bad key"}), 422,
            "validation_failed")


@BACKENDS
def test_concurrent_approvals_count_once_and_one_outcome_wins(expenses):
    c = expenses
    for _ in range(3):
        # The same manager twice at once: one approval, recorded once.
        big = report(c, amounts=("1500.00",))
        assert c.post("emma", f"/expense-reports/{big}/submit").status_code == 200
        a, b = race(lambda: c.post("mia", f"/expense-reports/{big}/approve"),
                    lambda: c.post("mia", f"/expense-reports/{big}/approve"))
        assert sorted([a.status_code, b.status_code]) == [202, 409], (a.text, b.text)
        assert approvals(c, big) == [("manager", c.ids["mia"], None)]
        # Manager and finance at once: both count, and the report ends approved (no lost approval).
        big2 = report(c, amounts=("1500.00",))
        assert c.post("emma", f"/expense-reports/{big2}/submit").status_code == 200
        a, b = race(lambda: c.post("max", f"/expense-reports/{big2}/approve"),
                    lambda: c.post("finn", f"/expense-reports/{big2}/approve"))
        assert sorted([a.status_code, b.status_code]) == [200, 202], (a.text, b.text)
        assert c.get("emma", f"/expense-reports/{big2}").json()["status"] == "approved"
        assert sorted(x[2] for x in approvals(c, big2)) == ["counted", "counted"]
        # An approval racing a rejection: exactly one wins, and the loser changed nothing.
        small = report(c, amounts=("10.00",))
        assert c.post("emma", f"/expense-reports/{small}/submit").status_code == 200
        a, r = race(lambda: c.post("mia", f"/expense-reports/{small}/approve"),
                    lambda: c.post("max", f"/expense-reports/{small}/reject", json={"reason": "No"}))
        assert sorted([a.status_code, r.status_code]) == [200, 409], (a.text, r.text)
        final = c.get("emma", f"/expense-reports/{small}").json()
        if a.status_code == 200:
            assert final["status"] == "approved" and final["rejection_reason"] is None
            assert approvals(c, small) == [("manager", c.ids["mia"], "counted")]
        else:
            assert final["status"] == "rejected" and final["rejection_reason"] == "No"
            assert approvals(c, small) == []
        # A submit retried at once with one Idempotency-Key: one effect, the same answer twice.
        rid = report(c)
        key = {"Idempotency-Key": f"race-{rid}"}
        s1, s2 = race(lambda: c.post("emma", f"/expense-reports/{rid}/submit", headers=key),
                      lambda: c.post("emma", f"/expense-reports/{rid}/submit", headers=key))
        assert (s1.status_code, s2.status_code) == (200, 200), (s1.text, s2.text)
        assert sorted(r.headers.get("Idempotent-Replayed", "no") for r in (s1, s2)) == ["no", "true"]
        assert s1.json() == s2.json()


FROZEN_VARIANTS = {
    # The update rule no longer requires a draft, so the frozen rule is what refuses.
    "refuse": ("      update: user == record.submitter and record.status == 'draft'\n",
               "      update: user == record.submitter\n", None),
    # ... and a change sends the report back to draft instead.
    "return": ("      update: user == record.submitter and record.status == 'draft'\n",
               "      update: user == record.submitter\n",
               ("          fields: [title, currency, lines]\n",
                "          fields: [title, currency, lines]\n          return_to: draft\n")),
}


def _variant(tmp_path: Path, name: str) -> Path:
    spec = tmp_path / f"spec_{name}"
    (spec / "entities").mkdir(parents=True)
    (spec / "keel.yaml").write_text((REPO / "specs/expenses/keel.yaml").read_text())
    (spec / "hooks.py").write_text((REPO / "specs/expenses/hooks.py").read_text())  # the spec's user module
    text = (REPO / "specs/expenses/entities/reports.yaml").read_text()
    old, new, more = FROZEN_VARIANTS[name]
    assert old in text
    text = text.replace(old, new)
    text = text.replace("      create: user == record.report.submitter and record.report.status == 'draft'\n",
                        "      create: user == record.report.submitter\n")
    if more:
        assert more[0] in text
        text = text.replace(more[0], more[1])
    (spec / "entities/reports.yaml").write_text(text)
    return spec


@BACKENDS
def test_frozen_fields_are_refused_from_submitted_on(tmp_path, monkeypatch, new_database):
    c = _expenses(tmp_path, new_database(), monkeypatch, _variant(tmp_path, "refuse"))
    try:
        rid = report(c)
        assert c.patch("emma", f"/expense-reports/{rid}", json={"title": "Still a draft"}).status_code == 200
        assert c.post("emma", f"/expense-reports/{rid}/submit").status_code == 200
        body = problem(c.patch("emma", f"/expense-reports/{rid}", json={"title": "Changed"}), 409, "frozen_field")
        assert body["rule"] == "ExpenseReport.frozen.1" and body["errors"][0]["field"] == "title"
        line = c.post("emma", "/expense-lines", json={"report_id": rid, "spent_on": "2024-05-02",
                                                      "description": "Taxi", "category": "travel", "amount": "10.00"})
        assert problem(line, 409, "frozen_field")["errors"][0]["field"] == "lines"
        assert c.get("emma", f"/expense-reports/{rid}").json()["title"] == "Still a draft"
    finally:
        c.app.client.__exit__(None, None, None)
        c.app.close()


@BACKENDS
def test_a_frozen_field_change_can_send_the_record_back(tmp_path, monkeypatch, new_database):
    c = _expenses(tmp_path, new_database(), monkeypatch, _variant(tmp_path, "return"))
    try:
        rid = report(c, amounts=("2000.00",))
        assert c.post("emma", f"/expense-reports/{rid}/submit").status_code == 200
        assert c.post("mia", f"/expense-reports/{rid}/approve").status_code == 202
        changed = c.patch("emma", f"/expense-reports/{rid}", json={"title": "Corrected"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["status"] == "draft" and changed.json()["title"] == "Corrected"
        assert approvals(c, rid) == [("manager", c.ids["mia"], "void")]  # it must be approved again
    finally:
        c.app.client.__exit__(None, None, None)
        c.app.close()


# --- tasks -------------------------------------------------------------------------------------------------


@pytest.fixture
def tasks(tmp_path, monkeypatch, new_database):
    app, _ = serve("tasks", tmp_path, new_database(), monkeypatch)
    with app.client:
        c = Client(app)
        for name in ("ann", "ben", "cal"):
            c.user(name)
        c.user("root", "admin")
        yield c
    app.close()


def _project(c: Client, who: str, name: str, members: list[str]) -> str:
    """A project owned by `who`; `members` are linked directly (the API has no member field: actions do it)."""
    response = c.post(who, "/projects", json={"name": name})
    assert response.status_code == 201, response.text
    Link = c.app.models.project_members
    with c.app.db() as session:
        for m in members:
            session.execute(insert(Link).values(project_id=uuid.UUID(response.json()["id"]),
                                                user_id=uuid.UUID(c.ids[m])))
        session.commit()
    return response.json()["slug"]


@BACKENDS
def test_tasks_transitions_actions_and_the_me_query(tasks):
    c = tasks
    slug = _project(c, "ann", "Launch", [])
    project = c.get("ann", f"/projects/{slug}").json()
    # Actions: an admin joins (the owner is no member yet), a non-admin may not; members leave.
    problem(c.post("ben", f"/projects/{slug}/join"), 404, "not_found")  # ben cannot even see it
    problem(c.post("ann", f"/projects/{slug}/join"), 403, "forbidden")
    joined = c.post("root", f"/projects/{slug}/join")
    assert joined.status_code == 200, joined.text
    assert c.post("root", f"/projects/{slug}/join").status_code == 200  # already a member: nothing changes
    Link = c.app.models.project_members
    with c.app.db() as session:
        assert session.execute(select(Link)).all() == [(uuid.UUID(project["id"]), uuid.UUID(c.ids["root"]))]
    problem(c.post("ann", f"/projects/{slug}/leave"), 403, "forbidden")  # the owner is not a member
    assert c.post("root", f"/projects/{slug}/leave").status_code == 200
    with c.app.db() as session:
        assert session.execute(select(Link)).all() == []
    assert c.post("root", f"/projects/{slug}/join").status_code == 200

    created = c.post("ann", "/tasks", json={"title": "Write", "project_id": project["id"]})
    assert created.status_code == 201, created.text
    task = created.json()["id"]
    # Assign: input validated, reference checked, invariant checked (assignee must be a member or the owner).
    problem(c.post("ann", f"/tasks/{task}/assign", json={}), 422, "validation_failed")
    problem(c.post("ann", f"/tasks/{task}/assign", json={"assignee": c.ids["ann"]}), 403, "forbidden")  # not a member
    problem(c.post("root", f"/tasks/{task}/assign", json={"assignee": str(uuid.uuid4())}), 422, "validation_failed")
    broken = problem(c.post("root", f"/tasks/{task}/assign", json={"assignee": c.ids["ben"]}), 422,
                     "invariant_violated")
    assert broken["rule"] == "assignee_is_member"
    assigned = c.post("root", f"/tasks/{task}/assign", json={"assignee": c.ids["ann"]})
    assert assigned.status_code == 200 and assigned.json()["assignee_id"] == c.ids["ann"]

    # Start and finish by the assignee only.
    refused = problem(c.post("root", f"/tasks/{task}/start"), 403, "forbidden")
    assert refused["rule"] == "Task.start"
    problem(c.post("ann", f"/tasks/{task}/finish"), 409, "invalid_transition")
    assert c.get("ann", "/me/tasks").json()["items"][0]["id"] == task
    started = c.post("ann", f"/tasks/{task}/start", headers={"If-Match": created.headers["ETag"]})
    problem(started, 412, "stale_version")  # assigned since: the ETag moved on
    started = c.post("ann", f"/tasks/{task}/start", headers={"If-Match": assigned.headers["ETag"]})
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert c.post("ann", f"/tasks/{task}/finish").json()["status"] == "done"
    guard = problem(c.post("root", f"/tasks/{task}/assign", json={"assignee": c.ids["ann"]}), 409, "guard_failed")
    assert guard["rule"] == "Task.assign.guard"
    assert c.get("ann", "/me/tasks").json() == {"items": [], "next_cursor": None}  # done: not open
    problem(c.post("ann", f"/tasks/{task}/reopen"), 403, "forbidden")
    assert c.post("root", f"/tasks/{task}/reopen").json()["status"] == "todo"


@BACKENDS
def test_the_me_query_paginates_and_never_widens_the_list_rule(tasks):
    c = tasks
    slug = _project(c, "ann", "Big", ["ann"])
    project = c.get("ann", f"/projects/{slug}").json()
    ids = []
    for i in range(5):
        r = c.post("ann", "/tasks", json={"title": f"T{i}", "project_id": project["id"],
                                         "due_date": f"2030-01-0{5 - i}"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
        assert c.post("ann", f"/tasks/{ids[-1]}/assign", json={"assignee": c.ids["ann"]}).status_code == 200
    seen, cursor = [], None
    while True:
        page = c.get("ann", "/me/tasks", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))  # soonest due date first
    problem(c.get("ann", "/me/tasks", params={"sort": "title"}), 422, "validation_failed")
    # Ann leaves the project's members... she owns it, so she still sees her tasks; a stranger assigned
    # directly in the database (bypassing the invariant) still sees nothing: the list rule wins.
    Task = c.app.models.Task
    with c.app.db() as session:
        session.execute(Task.__table__.update().where(Task.id == uuid.UUID(ids[0]))
                        .values(assignee_id=uuid.UUID(c.ids["cal"])))
        session.commit()
    assert c.get("cal", "/me/tasks").json()["items"] == []
    assert c.get(None, "/me/tasks").json()["items"] == []


@BACKENDS
def test_racing_transitions_on_one_task_have_one_winner(tasks):
    c = tasks
    slug = _project(c, "ann", "Race", ["ann"])
    project = c.get("ann", f"/projects/{slug}").json()
    for i in range(3):
        task = c.post("ann", "/tasks", json={"title": f"R{i}", "project_id": project["id"]}).json()["id"]
        assert c.post("ann", f"/tasks/{task}/assign", json={"assignee": c.ids["ann"]}).status_code == 200
        a, b = race(lambda: c.post("ann", f"/tasks/{task}/start"), lambda: c.post("ann", f"/tasks/{task}/start"))
        assert sorted([a.status_code, b.status_code]) == [200, 409], (a.text, b.text)
        record = c.get("ann", f"/tasks/{task}")
        assert record.json()["status"] == "in_progress" and record.headers["ETag"] == '"v3"'


@BACKENDS
def test_a_soft_deleted_record_answers_404_for_its_approvals_too(tmp_path, monkeypatch, new_database):
    """Once a report is soft-deleted, its approvals list is gone with it, as every other endpoint is."""
    spec = _variant(tmp_path, "refuse")
    reports = spec / "entities/reports.yaml"
    text = reports.read_text()
    old = "      delete: user == record.submitter and record.status == 'draft'\n"
    assert old in text and "    audit: true\n" in text
    text = text.replace(old, "      delete: user == record.submitter\n")
    reports.write_text(text.replace("    audit: true\n", "    audit: true\n    soft_delete: true\n", 1))
    c = _expenses(tmp_path, new_database(), monkeypatch, spec)
    try:
        big = report(c, amounts=("1500.00",))
        assert c.post("emma", f"/expense-reports/{big}/submit").status_code == 200
        assert c.post("mia", f"/expense-reports/{big}/approve").status_code == 202  # one of two approvals
        listed = c.get("emma", f"/expense-reports/{big}/approvals")
        assert listed.status_code == 200 and len(listed.json()["items"]) == 1
        etag = c.get("emma", f"/expense-reports/{big}").headers["ETag"]
        deleted = c.call("DELETE", "emma", f"/expense-reports/{big}", headers={"If-Match": etag})
        assert deleted.status_code == 204, deleted.text
        problem(c.get("emma", f"/expense-reports/{big}"), 404, "not_found")
        problem(c.get("emma", f"/expense-reports/{big}/approvals"), 404, "not_found")
        problem(c.post("fay", f"/expense-reports/{big}/approve"), 404, "not_found")
        assert approvals(c, big) == [("manager", c.ids["mia"], None)]  # the rows stay: soft, not removed
    finally:
        c.app.client.__exit__(None, None, None)
        c.app.close()
