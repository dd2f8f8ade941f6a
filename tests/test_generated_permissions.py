"""Compiled permission rules in a generated app, over HTTP, on SQLite and PostgreSQL.

A small spec written here, `notes`, where the rules differ between entities so that
each way a rule can leak is observable: lists filtered in SQL, hidden records 404,
visible but unchangeable records 403 naming the deciding rule, and includes that
never embed a record its reader could not fetch directly. Plus the example task
manager, whose rules go through a link table (project members).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select

from tests.generated_app import import_package_module, render_into
from tests.test_generated_auth import PASSWORD, SECRET, new_database, pg_admin  # noqa: F401 - fixtures

NOTES_SPEC = """\
keel: 1
app: {name: notes, title: Notes, version: "0.1.0"}
api: {prefix: /api}
auth:
  user: Account
  identity: email
  password: password
  roles: [admin, member]
  default_role: member
  signup: true
entities:
  Account:
    fields:
      email: {type: email, unique: true}
      password: {type: password, min_length: 8}
      name: string
      phone:
        type: string
        required: false
        access:
          read: user == record or user.role == 'admin'
          write: user == record
      notes: {type: has_many, to: Note, via: author}
    include: [notes]
    permissions:
      list: user != null
      read: user == record or user.role == 'admin'
      update: user == record or user.role == 'admin'
  Note:
    fields:
      title: string
      private: {type: boolean, default: false}
      author: {type: ref, to: Account, auto: current_user}
    include: [author]
    filters: [private]
    sort: [title]
    permissions:
      list: record.private == false or user == record.author
      read: record.private == false or user == record.author
      create: user != null
      update:
        - allow: user == record.author
          id: authors-edit
      delete:
        - allow: user == record.author
          id: authors-delete
        - deny: record.private == false
          id: public-notes-stay
          description: A published note stays published.
"""


class Api:
    def __init__(self, client: Any, prefix: str, url: str) -> None:
        self.client, self.prefix, self.url = client, prefix, url

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.request(method, self.prefix + path, headers=headers, **kwargs)

    def signup(self, email: str) -> str:
        response = self.call("POST", "/auth/signup", json={"email": email, "password": PASSWORD, "name": email})
        assert response.status_code == 201, response.text
        return response.json()["access_token"]


def _serve(spec: Path, package: str, prefix: str, tmp_path: Path, url: str, monkeypatch) -> tuple[Api, Any]:
    from fastapi.testclient import TestClient

    out = tmp_path / "out"
    render_into(spec, out)
    models = import_package_module(out, f"{package}.models")
    settings_module = import_package_module(out, f"{package}.settings", fresh=False)
    app_module = import_package_module(out, f"{package}.app", fresh=False)
    engine = create_engine(url)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("APP_SECRET_KEY", SECRET)
    client = TestClient(app_module.create_app(settings_module.load_settings({"DATABASE_URL": url})),
                        raise_server_exceptions=False)
    return Api(client, prefix, url), models


@pytest.fixture
def notes(tmp_path, monkeypatch, new_database):
    spec = tmp_path / "notes_spec"
    spec.mkdir()
    (spec / "keel.yaml").write_text(NOTES_SPEC, encoding="utf-8")
    api, _ = _serve(spec, "notes", "/api", tmp_path, new_database(), monkeypatch)
    with api.client:
        yield api


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    return body


def _note(api: Api, token: str, title: str, private: bool) -> dict:
    response = api.call("POST", "/notes", token, json={"title": title, "private": private})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def people(notes):
    """Ada with a public and a private note, Bob with one public note."""
    ada, bob = notes.signup("ada@example.test"), notes.signup("bob@example.test")
    return {
        "ada": ada,
        "bob": bob,
        "ada_public": _note(notes, ada, "ada public", False),
        "ada_private": _note(notes, ada, "ada private", True),
        "bob_public": _note(notes, bob, "bob public", False),
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_lists_hold_exactly_what_the_user_may_see(notes, people):
    def titles(token, query=""):
        response = notes.call("GET", f"/notes?sort=title{query}", token)
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    assert titles(people["bob"]) == ["ada public", "bob public"]
    assert titles(people["ada"]) == ["ada private", "ada public", "bob public"]
    assert titles(None) == ["ada public", "bob public"]  # the rule allows anyone to list public notes
    # Pages are cut after the rule is applied: a page of one never comes back empty.
    first = notes.call("GET", "/notes?sort=title&limit=1", people["bob"]).json()
    second = notes.call("GET", f"/notes?sort=title&limit=1&cursor={first['next_cursor']}", people["bob"]).json()
    assert [i["title"] for i in first["items"] + second["items"]] == ["ada public", "bob public"]
    assert second["next_cursor"] is None
    # A filter cannot widen the rule.
    assert titles(people["bob"], "&private=true") == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_hidden_record_is_404_for_every_operation(notes, people):
    hidden, missing = people["ada_private"]["id"], str(uuid.uuid4())

    def shown(body: dict) -> dict:  # what differs between any two requests anyway
        return {k: v for k, v in body.items() if k not in ("instance", "request_id")}

    for method, kwargs in [("GET", {}), ("PATCH", {"json": {"title": "mine now"}}), ("DELETE", {})]:
        body = problem(notes.call(method, f"/notes/{hidden}", people["bob"], **kwargs), 404, "not_found")
        # The same answer as for an id that does not exist: existence does not leak.
        absent = problem(notes.call(method, f"/notes/{missing}", people["bob"], **kwargs), 404, "not_found")
        assert shown(body) == shown(absent)
    assert notes.call("GET", f"/notes/{hidden}", people["ada"]).json()["title"] == "ada private"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_visible_record_the_user_may_not_change_is_403_naming_the_rule(notes, people):
    target = people["ada_public"]["id"]
    body = problem(notes.call("PATCH", f"/notes/{target}", people["bob"], json={"title": "bob was here"}),
                   403, "forbidden")
    assert body["rule"] == "Note.update"  # no allow rule held
    assert "author" in body["explanation"]  # development mode explains, in English
    # A deny rule beats the author's allow rule, and is named.
    body = problem(notes.call("DELETE", f"/notes/{target}", people["ada"]), 403, "forbidden")
    assert body["rule"] == "public-notes-stay"
    # Nothing changed.
    record = notes.call("GET", f"/notes/{target}", people["ada"]).json()
    assert record["title"] == "ada public"
    # What the rules allow still works.
    assert notes.call("DELETE", f"/notes/{people['ada_private']['id']}", people["ada"]).status_code == 204
    assert notes.call("PATCH", f"/notes/{target}", people["ada"], json={"title": "edited"}).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_anonymous_writes_are_401(notes, people):
    problem(notes.call("POST", "/notes", None, json={"title": "anon"}), 401, "authentication_required")
    problem(notes.call("PATCH", f"/notes/{people['ada_public']['id']}", None, json={"title": "x"}),
            401, "authentication_required")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_include_never_embeds_what_the_reader_may_not_read(notes, people):
    ada_id = notes.call("GET", "/me", people["ada"]).json()["id"]
    bob_id = notes.call("GET", "/me", people["bob"]).json()["id"]
    # Bob may read a public note of Ada's, but not Ada's account: the embedded author is null.
    listed = notes.call("GET", "/notes?sort=title&include=author", people["bob"]).json()["items"]
    authors = {item["title"]: item["author"] for item in listed}
    assert authors["ada public"] is None and listed[0]["author_id"] == ada_id
    assert authors["bob public"]["id"] == bob_id
    one = notes.call("GET", f"/notes/{people['ada_public']['id']}?include=author", people["bob"]).json()
    assert one["author"] is None
    assert notes.call("GET", f"/notes/{people['ada_public']['id']}?include=author",
                      people["ada"]).json()["author"]["id"] == ada_id
    # To-many: Ada reading her own account with its notes sees both; nobody else sees her private one.
    mine = notes.call("GET", f"/accounts/{ada_id}?include=notes", people["ada"]).json()
    assert sorted(n["title"] for n in mine["notes"]) == ["ada private", "ada public"]
    accounts = notes.call("GET", "/accounts?include=notes", people["bob"])
    assert accounts.status_code == 200, accounts.text
    for account in accounts.json()["items"]:
        assert all(n["title"] != "ada private" for n in account["notes"]), account


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_admin_role_read_from_the_database_on_each_request(notes, people, tmp_path):
    ada_id = notes.call("GET", "/me", people["ada"]).json()["id"]
    problem(notes.call("GET", f"/accounts/{ada_id}", people["bob"]), 404, "not_found")
    models = import_package_module(tmp_path / "out", "notes.models", fresh=False)
    engine = create_engine(notes.url)
    with engine.begin() as conn:
        conn.execute(models.Account.__table__.update().where(models.Account.__table__.c.email == "bob@example.test")
                     .values(role="admin"))
    engine.dispose()
    assert notes.call("GET", f"/accounts/{ada_id}", people["bob"]).status_code == 200  # the same old token


# --- the example task manager: rules through a link table --------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_task_manager_members_see_their_projects_tasks_and_no_others(tmp_path, monkeypatch, new_database):
    from tests.conftest import REPO

    url = new_database()
    api, models = _serve(REPO / "specs/tasks", "tasks", "/api", tmp_path, url, monkeypatch)
    with api.client:
        owner, member, stranger = (api.signup(f"{n}@example.test") for n in ("owner", "member", "stranger"))
        project = api.call("POST", "/projects", owner, json={"name": "Apollo"}).json()
        member_id = api.call("GET", "/me", member).json()["id"]
        engine = create_engine(url)
        with engine.begin() as conn:  # members join through an action (not served yet): set it directly
            conn.execute(insert(models.project_members).values(project_id=uuid.UUID(project["id"]),
                                                               user_id=uuid.UUID(member_id)))
        task = api.call("POST", "/tasks", member, json={"title": "Launch", "project_id": project["id"]})
        assert task.status_code == 201, task.text
        task_id = task.json()["id"]
        problem(api.call("POST", "/tasks", stranger, json={"title": "Sneak in", "project_id": project["id"]}),
                403, "forbidden")
        with engine.connect() as conn:
            assert conn.execute(select(models.Task.__table__.c.title)).scalars().all() == ["Launch"]
        engine.dispose()

        assert [t["id"] for t in api.call("GET", "/tasks", member).json()["items"]] == [task_id]
        assert [t["id"] for t in api.call("GET", "/tasks", owner).json()["items"]] == [task_id]
        assert api.call("GET", "/tasks", stranger).json()["items"] == []
        problem(api.call("GET", f"/tasks/{task_id}", stranger), 404, "not_found")
        problem(api.call("GET", f"/projects/{project['slug']}", stranger), 404, "not_found")
        # The member may edit the task, but only its creator (or an admin) may delete it.
        assert api.call("PATCH", f"/tasks/{task_id}", owner, json={"title": "Launch!"}).status_code == 200
        body = problem(api.call("DELETE", f"/tasks/{task_id}", owner), 403, "forbidden")
        assert body["rule"] == "Task.delete"
        assert api.call("DELETE", f"/tasks/{task_id}", member).status_code == 204


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_field_read_rule_hides_the_field_and_a_write_rule_refuses_it(notes, people, tmp_path):
    me_ada = notes.call("GET", "/me", people["ada"]).json()
    ada_id, bob_id = me_ada["id"], notes.call("GET", "/me", people["bob"]).json()["id"]
    assert notes.call("PATCH", f"/accounts/{ada_id}", people["ada"], json={"phone": "+41 1"}).json()["phone"] == "+41 1"
    assert notes.call("GET", "/me", people["ada"]).json()["phone"] == "+41 1"
    # Bob may list accounts, but Ada's phone is absent from what he gets (not null: absent).
    listed = {a["id"]: a for a in notes.call("GET", "/accounts", people["bob"]).json()["items"]}
    assert "phone" not in listed[ada_id] and listed[bob_id]["phone"] is None
    assert notes.call("GET", "/accounts", people["ada"]).json()["items"][0].get("phone") in ("+41 1", None)
    assert {a["id"]: a for a in notes.call("GET", "/accounts", people["ada"]).json()["items"]}[ada_id]["phone"] == "+41 1"
    # An admin reads it, but may not set it: only its owner may.
    models = import_package_module(tmp_path / "out", "notes.models", fresh=False)
    engine = create_engine(notes.url)
    with engine.begin() as conn:
        conn.execute(models.Account.__table__.update().where(models.Account.__table__.c.email == "bob@example.test")
                     .values(role="admin"))
    engine.dispose()
    assert notes.call("GET", f"/accounts/{ada_id}", people["bob"]).json()["phone"] == "+41 1"
    body = problem(notes.call("PATCH", f"/accounts/{ada_id}", people["bob"], json={"phone": "+1 555"}), 403, "forbidden")
    assert body["rule"] == "Account.phone.write" and body["field"] == "phone"
    assert notes.call("PATCH", f"/accounts/{ada_id}", people["bob"], json={"name": "Ada L."}).status_code == 200
    assert notes.call("GET", "/me", people["ada"]).json()["phone"] == "+41 1"  # unchanged
