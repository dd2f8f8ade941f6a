"""Webhook delivery end to end: notifications made through the API reach a local receiver.

The dispatcher with the webhook sender on SQLite and PostgreSQL: a signed delivery whose
event id stays the same when a 500 answer makes it retry, refused deliveries retried later
with the reason recorded, two dispatchers posting each event once, and the
``python -m expenses dispatch`` command (refusing bad settings, delivering good ones).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select

from tests.generated_app import import_package_module
from tests.test_generated_audit import Expenses, _fill_outbox, expenses  # noqa: F401
from tests.test_generated_auth import BACKENDS, new_database, pg_admin, render_app  # noqa: F401
from tests.webhook_receiver import SECRET, fake_dns, receiver, verify  # noqa: F401


@pytest.fixture(scope="module")
def app_out(tmp_path_factory) -> Path:
    return render_app("expenses", tmp_path_factory.mktemp("webhooks"))


def run_dispatcher(expenses: Expenses, env: dict[str, str], backoff: float = 0.0) -> int:
    notifications = import_package_module(expenses.out, "expenses.notifications", fresh=False)
    settings = import_package_module(expenses.out, "expenses.settings", fresh=False).load_settings({})

    async def run() -> int:
        database = expenses.async_database()
        try:
            async with notifications.configured_sender(settings, env) as sender:
                return await notifications.Dispatcher(database, sender, backoff_seconds=backoff).run_once()
        finally:
            await database.dispose()

    return asyncio.run(run())


@BACKENDS
def test_a_notification_from_the_api_reaches_the_webhook_signed_and_is_retried(expenses, receiver):
    report = expenses.report(title="Oslo")
    expenses.line(report)
    path = f"/expense-reports/{report['id']}"
    assert expenses.call("POST", f"{path}/submit", "emp").status_code == 200
    assert expenses.call("POST", f"{path}/approve", "mgr").status_code == 200
    [row] = expenses.outbox()
    env = {"APP_WEBHOOK_URLS": receiver.url, "APP_WEBHOOK_SECRET": SECRET, "APP_WEBHOOK_ALLOW": "127.0.0.1"}

    receiver.answers = [{"status": 500, "body": b"database is down"}]
    assert run_dispatcher(expenses, env) == 0
    [failed] = expenses.outbox()
    assert failed.delivered_at is None and failed.attempts == 1
    assert "answered 500: database is down" in failed.last_error
    assert run_dispatcher(expenses, env) == 1  # back-off 0: due again at once, answered 200
    [done] = expenses.outbox()
    assert done.delivered_at is not None and done.attempts == 2 and done.last_error is None
    assert run_dispatcher(expenses, env) == 0  # delivered once: not again

    first, second = receiver.requests
    for request, attempt in ((first, 1), (second, 2)):
        headers, body = request["headers"], request["body"]
        assert headers["webhook-id"] == str(row.event_id)  # stable across the retry
        assert headers["content-type"] == "application/json"
        assert verify(SECRET.encode(), headers, body)
        assert not verify(b"another-secret", headers, body)
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
        assert json.loads(body) == {
            "event_id": str(row.event_id), "notification": "decided", "entity": "ExpenseReport",
            "record_id": report["id"], "recipient_id": str(expenses.ids["emp"]),
            "message": "Your report Oslo was approved",
            "created_at": json.loads(body)["created_at"], "attempt": attempt}
    assert verify(SECRET.encode(), {**first["headers"], "webhook-id": str(uuid.uuid4())}, first["body"]) is False


@pytest.mark.parametrize("backend", ["sqlite"])
def test_refused_deliveries_are_retried_later_with_the_reason(expenses, monkeypatch):
    hooks = import_package_module(expenses.out, "expenses.webhooks", fresh=False)
    fake_dns(monkeypatch, hooks, ["127.0.0.1"], ["127.0.0.1"])
    _fill_outbox(expenses, 2)
    env = {"APP_WEBHOOK_URLS": "http://hooks.example.test/in", "APP_WEBHOOK_SECRET": SECRET}
    assert run_dispatcher(expenses, env, backoff=30) == 0
    rows = expenses.outbox()
    assert len(rows) == 2 and all(r.delivered_at is None and r.attempts == 1 for r in rows)
    assert all("127.0.0.1 (loopback), which is refused" in r.last_error for r in rows)
    assert run_dispatcher(expenses, env, backoff=30) == 0  # not due again before the back-off ends
    assert [r.attempts for r in expenses.outbox()] == [1, 1]
    N = expenses.models.NotificationOutbox
    with expenses.app.db() as session:  # the back-off is over: tried again, refused again
        session.execute(N.__table__.update().values(available_at=datetime.datetime(2000, 1, 1)))
        session.commit()
    assert run_dispatcher(expenses, env) == 0
    assert [r.attempts for r in expenses.outbox()] == [2, 2]


def test_the_dispatch_command_delivers_and_refuses_bad_settings(app_out, receiver, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    base = {**os.environ, "PYTHONPATH": str(app_out), "DATABASE_URL": url, "APP_WEBHOOK_SECRET": SECRET}
    base.pop("APP_NOTIFICATION_SENDER", None)

    def dispatch(**env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "expenses", "dispatch", "--once"], cwd=app_out,
                              env={**base, **env}, capture_output=True, text=True, timeout=120)

    refused = dispatch(APP_WEBHOOK_URLS="gopher://127.0.0.1:70/_x")
    assert refused.returncode == 1 and "only http and https webhooks are delivered" in refused.stderr
    refused = dispatch(APP_WEBHOOK_URLS=receiver.url)  # 127.0.0.1 is not allowed
    assert refused.returncode == 1 and "127.0.0.1 (loopback), which is refused" in refused.stderr

    engine = create_engine(url)
    models = import_package_module(app_out, "expenses.models", fresh=False)
    event = uuid.uuid4()
    with engine.begin() as connection:  # the schema exists: the command migrated it
        connection.execute(insert(models.NotificationOutbox).values(
            event_id=event, recipient_id=uuid.uuid4(), notification="decided", entity="ExpenseReport",
            record_id="r1", message="hello", attempts=0))
    ran = dispatch(APP_WEBHOOK_URLS=receiver.url, APP_WEBHOOK_ALLOW="127.0.0.1")
    assert ran.returncode == 0, ran.stderr
    [request] = receiver.requests
    assert request["headers"]["webhook-id"] == str(event) and verify(SECRET.encode(), request["headers"],
                                                                      request["body"])
    with engine.connect() as connection:
        assert connection.execute(select(models.NotificationOutbox.delivered_at)).scalar() is not None
    engine.dispose()


@BACKENDS
def test_two_dispatchers_post_each_event_once(expenses, receiver):
    """Two dispatchers (two engines, as two processes would have) drain one outbox to one receiver."""
    notifications = import_package_module(expenses.out, "expenses.notifications", fresh=False)
    settings = import_package_module(expenses.out, "expenses.settings", fresh=False).load_settings({})
    _fill_outbox(expenses, 30)
    env = {"APP_WEBHOOK_URLS": receiver.url, "APP_WEBHOOK_SECRET": SECRET, "APP_WEBHOOK_ALLOW": "127.0.0.1"}

    async def drain() -> None:
        database = expenses.async_database()
        try:
            async with notifications.configured_sender(settings, env) as sender:
                dispatcher = notifications.Dispatcher(database, sender, batch=4)
                while await dispatcher.run_once():
                    pass
        finally:
            await database.dispose()

    async def both() -> None:
        await asyncio.gather(drain(), drain())

    asyncio.run(both())
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert len(ids) == 30 and set(ids) == {str(r.event_id) for r in expenses.outbox()}
    assert all(r.delivered_at is not None and r.attempts == 1 for r in expenses.outbox())
