"""Idempotency-Key on the plain CRUD creates of the generated apps, over HTTP, on SQLite and PostgreSQL.

The task manager's project create (it needs the user anyway) and a small spec written here
whose create is public (the app reads the user only when a key is sent): a retry with the
same key and body is the first answer again (201, Location, body) and no second row; the
same key with another body is 422; keys are per user; two concurrent creates with one key
make one row; a create without the header never touches the key table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from tests.generated_app import import_package_module, render_into
from tests.test_generated_auth import (  # noqa: F401 - fixtures
    BACKENDS, PASSWORD, SECRET, new_database, pg_admin, problem, serve, signup,
)
from tests.test_generated_workflows import race


def _count(app, table: str) -> int:  # type: ignore[no-untyped-def]
    with app.db() as session:
        return session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.fixture
def tasks(tmp_path, monkeypatch, new_database):
    app, _ = serve("tasks", tmp_path, new_database(), monkeypatch)
    with app.client:
        yield app
    app.close()


def _bearer(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


@BACKENDS
def test_a_retried_create_replays_the_first_answer_and_creates_one_row(tasks):
    ada = signup(tasks, "ada@example.test")["access_token"]
    body = {"name": "Roof", "description": "Fix the roof"}
    first = tasks.client.post("/api/projects", json=body, headers=_bearer(ada, "create-roof"))
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = tasks.client.post("/api/projects", json=body, headers=_bearer(ada, "create-roof"))
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert (again.headers["Location"], again.headers["ETag"]) == (first.headers["Location"], first.headers["ETag"])
    assert again.headers["content-type"] == first.headers["content-type"]
    assert _count(tasks, "projects") == 1
    # The same key with another body: refused, nothing created.
    problem(tasks.client.post("/api/projects", json={"name": "Shed"}, headers=_bearer(ada, "create-roof")),
            422, "idempotency_key_reused")
    # Keys are per user: another user's same key is a new request.
    bob = signup(tasks, "bob@example.test")["access_token"]
    other = tasks.client.post("/api/projects", json=body, headers=_bearer(bob, "create-roof"))
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]
    # Without a key a retry is a second request (here refused by the unique (owner, name)).
    problem(tasks.client.post("/api/projects", json=body, headers=_bearer(ada)), 409, "already_exists")
    # A refused create stores nothing: the key works once the request is right.
    problem(tasks.client.post("/api/projects", json={"name": ""}, headers=_bearer(ada, "k2")), 422,
            "validation_failed")
    problem(tasks.client.post("/api/projects", json={"name": "Roof"}, headers=_bearer(ada, "k3")), 409,
            "already_exists")
    assert tasks.client.post("/api/projects", json={"name": "Porch"}, headers=_bearer(ada, "k3")).status_code == 201
    problem(tasks.client.post("/api/projects", json={"name": "Gate"}, headers=_bearer(ada, "bad key")), 422,
            "validation_failed")
    assert _count(tasks, "projects") == 3


@BACKENDS
def test_concurrent_creates_with_one_key_make_one_row(tasks):
    ada = signup(tasks, "ada@example.test")["access_token"]
    for i in range(3):
        body = {"name": f"Race {i}"}
        a, b = race(lambda: tasks.client.post("/api/projects", json=body, headers=_bearer(ada, f"race-{i}")),
                    lambda: tasks.client.post("/api/projects", json=body, headers=_bearer(ada, f"race-{i}")))
        assert (a.status_code, b.status_code) == (201, 201), (a.text, b.text)
        assert a.json() == b.json() and a.headers["Location"] == b.headers["Location"]
        assert sorted(r.headers.get("Idempotent-Replayed", "") for r in (a, b)) == ["", "true"]
    with tasks.db() as session:
        names = sorted(session.scalars(select(tasks.models.Project.name)))
    assert names == ["Race 0", "Race 1", "Race 2"]


@BACKENDS
def test_a_create_without_the_header_never_reads_the_key_table(tasks):
    ada = signup(tasks, "ada@example.test")["access_token"]
    statements: list[str] = []
    engine = tasks.client.app.state.database.engine.sync_engine

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert tasks.client.post("/api/projects", json={"name": "Quiet"}, headers=_bearer(ada)).status_code == 201
        quiet = list(statements)
        assert tasks.client.post("/api/projects", json={"name": "Keyed"}, headers=_bearer(ada, "k")).status_code == 201
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert quiet and not any("idempotency_keys" in s for s in quiet)
    assert any("idempotency_keys" in s for s in statements[len(quiet):])


# --- a public create: the user is read only when a key is sent ---------------------------------------------

INBOX = """\
keel: 1
app: {name: inbox, title: Inbox, version: "1.0.0"}
api: {prefix: /api}
auth: {user: User, identity: email, password: password, roles: [member], signup: true}
entities:
  User:
    fields:
      email: {type: email, unique: true, max_length: 254}
      name: {type: string, min_length: 1, max_length: 120}
      password: {type: password, min_length: 12}
    operations: [read]
    permissions: {read: user != null}
  Message:
    fields:
      body: {type: string, min_length: 1, max_length: 500}
    operations: [list, create]
    permissions: {list: "true", create: "true"}
"""


@BACKENDS
def test_keys_are_per_user_on_a_public_create(tmp_path, monkeypatch, new_database):
    from fastapi.testclient import TestClient

    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "keel.yaml").write_text(INBOX, encoding="utf-8")
    out = tmp_path / "out"
    render_into(spec, out)
    url = new_database()
    models = import_package_module(out, "inbox.models")
    settings = import_package_module(out, "inbox.settings", fresh=False)
    from sqlalchemy import create_engine

    engine = create_engine(url)
    models.Base.metadata.create_all(engine)
    monkeypatch.setenv("APP_SECRET_KEY", SECRET)
    app = import_package_module(out, "inbox.app", fresh=False).create_app(settings.load_settings({"DATABASE_URL": url}))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            token = client.post("/api/auth/signup", json={"email": "ada@example.test", "name": "Ada",
                                                          "password": PASSWORD}).json()["access_token"]
            body = {"body": "hello"}
            anonymous = [client.post("/api/messages", json=body, headers={"Idempotency-Key": "m1"}) for _ in range(2)]
            assert [r.status_code for r in anonymous] == [201, 201]
            assert anonymous[1].headers["Idempotent-Replayed"] == "true"
            signed_in = client.post("/api/messages", json=body, headers=_bearer(token, "m1"))
            assert signed_in.status_code == 201 and "Idempotent-Replayed" not in signed_in.headers
            assert signed_in.json()["id"] != anonymous[0].json()["id"]
            assert client.post("/api/messages", json=body, headers=_bearer(token, "m1")).json() == signed_in.json()
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM messages")).scalar_one() == 2
    finally:
        engine.dispose()


def test_the_openapi_document_lists_the_header_on_creates():
    import json

    from tests.conftest import REPO

    document = json.loads((REPO / "generated" / "tasks" / "openapi.json").read_text(encoding="utf-8"))
    create = document["paths"]["/api/projects"]["post"]
    assert {"$ref": "#/components/parameters/IdempotencyKey"} in create["parameters"]
    assert "Idempotency-Key" in create["description"]
    assert document["components"]["parameters"]["IdempotencyKey"]["in"] == "header"
