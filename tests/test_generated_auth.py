"""Sign-in of the generated apps, served over HTTP on SQLite and PostgreSQL.

specs/tasks (sign-up on, an active flag), specs/expenses (sign-up off) and a small spec
written here, `club` (camelCase wire names, the `Token` scheme, integer ids, soft delete,
an envelope, no `admin` role). Time is a fake clock (the generated ``auth.clock``): no
test sleeps.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.orm import Session

from generator.formatting import format_python
from generator.generate import _environment
from generator.ir import build_ir
from generator.pipeline import validate_path
from generator.targets import header
from generator.targets.auth import auth_files, main_auth_context
from tests.conftest import REPO
from tests.generated_app import import_package_module, render_into

PG_ADMIN_URL = os.environ.get("KEEL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "a-test-signing-key-that-is-long-enough-for-hs256-0123456789"
PASSWORD = "correct horse battery staple"
WRONG = "Tr0ub4dor&3-not-it"

CLUB_SPEC = """\
keel: 1
app:
  name: club
  title: Club
  version: "0.1.0"
api:
  prefix: /v2
  wire_names: camelCase
  auth_scheme: Token
  envelope: true
auth:
  user: Member
  identity: user_name
  password: secret
  roles: [member, owner]
  default_role: member
  signup: true
entities:
  Member:
    id: integer
    soft_delete: true
    permissions: {all: "true"}
    fields:
      user_name: {type: string, unique: true, max_length: 40, min_length: 3}
      secret: {type: password, min_length: 8}
      display_name: {type: string, max_length: 80}
"""


# --- rendering and serving -------------------------------------------------------------------


def spec_dir(app: str, tmp_path: Path) -> Path:
    if app == "club":
        spec = tmp_path / "club_spec"
        spec.mkdir(exist_ok=True)
        (spec / "keel.yaml").write_text(CLUB_SPEC, encoding="utf-8")
        return spec
    return REPO / "specs" / app


def _ir(spec: Path):
    result = validate_path(spec)
    assert result.ok, result.diagnostics
    return build_ir(result.spec, result.source_map, result.root)


def render_app(app: str, tmp_path: Path) -> Path:
    """The generated app in tmp_path/out, with its sign-in modules (rendered here until plan_files lists them)."""
    spec, out = spec_dir(app, tmp_path), tmp_path / "out"
    files = render_into(spec, out)
    ir = _ir(spec)
    if f"{ir.package}/auth.py" not in files:
        for planned in auth_files(ir):
            source = format_python(_environment().get_template(planned.template).render(**planned.context))
            (out / planned.path).write_text(source, encoding="utf-8")
        main = _environment().get_template("app/package/__main__.py.j2").render(
            header=header(ir), package=ir.package, title=ir.title, auth=main_auth_context(ir))
        (out / f"{ir.package}/__main__.py").write_text(format_python(main), encoding="utf-8")
    return out


def make_app(out: Path, package: str, settings: Any) -> Any:
    """``create_app(settings)``, with the sign-in router (wired here until app.py includes it)."""
    app = import_package_module(out, f"{package}.app", fresh=False).create_app(settings)
    auth = import_package_module(out, f"{package}.auth", fresh=False)
    if not any(getattr(route, "path", "").endswith("/auth/login") for route in app.routes):
        auth.install_auth(app, settings)
        app.include_router(import_package_module(out, f"{package}.routers.auth", fresh=False).router)
    return app


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class App:
    client: TestClient
    auth: Any  # the generated auth module
    models: Any
    clock: FakeClock
    url: str  # sync URL of the app's database
    prefix: str
    engine: Any = None

    def db(self) -> Session:
        if self.engine is None:
            self.engine = create_engine(self.url)
        return Session(self.engine)

    def execute(self, statement: Any) -> None:
        with self.db() as session:
            session.execute(statement)
            session.commit()

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


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
def new_database(backend, request, tmp_path):
    """new() -> the sync URL of a fresh, empty database of the test's backend."""
    names: list[str] = []
    if backend == "sqlite":
        counter = iter(range(1000))
        yield lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}"
        return
    admin = request.getfixturevalue("pg_admin")

    def new() -> str:
        name = f"keel_auth_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        names.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    yield new
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def serve(app_name: str, tmp_path: Path, url: str, monkeypatch, create_schema: bool = True,
          out: Path | None = None) -> tuple[App, Any]:
    out = out or render_app(app_name, tmp_path)
    package = app_name
    models = import_package_module(out, f"{package}.models")
    settings_module = import_package_module(out, f"{package}.settings", fresh=False)
    auth = import_package_module(out, f"{package}.auth", fresh=False)
    if create_schema:
        engine = create_engine(url)
        models.Base.metadata.drop_all(engine)
        models.Base.metadata.create_all(engine)
        engine.dispose()
    monkeypatch.setenv("APP_SECRET_KEY", SECRET)
    monkeypatch.delenv("APP_TOKEN_TTL_SECONDS", raising=False)
    clock = FakeClock()
    monkeypatch.setattr(auth, "clock", clock)
    settings = settings_module.load_settings({"DATABASE_URL": url})
    client = TestClient(make_app(out, package, settings), raise_server_exceptions=False)
    prefix = {"tasks": "/api", "expenses": "/api/v1", "club": "/v2"}[app_name]
    return App(client, auth, models, clock, url, prefix), out


BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


@pytest.fixture
def tasks(request, tmp_path, monkeypatch, new_database):
    app, _ = serve("tasks", tmp_path, new_database(), monkeypatch)
    with app.client:
        yield app
    app.close()


@pytest.fixture
def club(request, tmp_path, monkeypatch, new_database):
    app, _ = serve("club", tmp_path, new_database(), monkeypatch)
    with app.client:
        yield app
    app.close()


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["status"] == status
    return body


def signup(app: App, email: str = "ada@example.test", password: str = PASSWORD, **extra: Any) -> dict:
    response = app.client.post(f"{app.prefix}/auth/signup",
                               json={"email": email, "name": "Ada", "password": password, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def login(app: App, email: str = "ada@example.test", password: str = PASSWORD):
    return app.client.post(f"{app.prefix}/auth/login", json={"email": email, "password": password})


def me(app: App, token: str, scheme: str = "Bearer"):
    return app.client.get(f"{app.prefix}/me", headers={"Authorization": f"{scheme} {token}"})


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# --- sign-up, login, /me ---------------------------------------------------------------------


@BACKENDS
def test_signup_gives_a_token_that_works_on_me(tasks):
    response = tasks.client.post("/api/auth/signup",
                                 json={"email": "ada@example.test", "name": "Ada", "password": PASSWORD})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"user", "access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    user = body["user"]
    assert (user["email"], user["role"], user["active"]) == ("ada@example.test", "member", True)
    assert "password" not in user and "password_hash" not in user
    assert response.headers["location"] == f"/api/users/{user['id']}"
    assert response.headers["cache-control"] == "no-store"
    got = me(tasks, body["access_token"])
    assert got.status_code == 200 and got.json() == user
    assert got.headers["cache-control"] == "no-store"
    with tasks.db() as session:  # stored as an Argon2id hash, never as given
        stored = session.scalar(select(tasks.models.User.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@BACKENDS
def test_signup_cannot_choose_a_role_or_reuse_an_identity(tasks):
    [error] = problem(tasks.client.post("/api/auth/signup", json={
        "email": "eve@example.test", "name": "Eve", "password": PASSWORD, "role": "admin"}),
        422, "validation_failed")["errors"]
    assert (error["field"], error["code"]) == ("role", "read_only_field")
    signup(tasks)
    problem(tasks.client.post("/api/auth/signup", json={"email": "ada@example.test", "name": "Ada 2",
                                                        "password": PASSWORD}), 409, "already_exists")
    short = problem(tasks.client.post("/api/auth/signup", json={"email": "bob@example.test", "name": "Bob",
                                                                "password": "Zq9!xY"}), 422, "validation_failed")
    assert [e["field"] for e in short["errors"]] == ["password"] and "Zq9!xY" not in json.dumps(short)


@BACKENDS
def test_login_right_and_wrong_password(tasks):
    signup(tasks)
    response = login(tasks)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert response.headers["cache-control"] == "no-store"
    assert me(tasks, body["access_token"]).json()["email"] == "ada@example.test"
    wrong = problem(login(tasks, password=WRONG), 401, "invalid_credentials")
    unknown = problem(login(tasks, email="nobody@example.test"), 401, "invalid_credentials")
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert "www-authenticate" not in {k.lower() for k in login(tasks, password=WRONG).headers}


@BACKENDS
def test_an_unknown_identity_still_costs_a_password_verification(tasks, monkeypatch):
    signup(tasks)
    calls = []
    real = tasks.auth._hasher

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, stored, password):
            calls.append(stored == tasks.auth._dummy_hash())
            return real.verify(stored, password)

    monkeypatch.setattr(tasks.auth, "_hasher", Spy())
    problem(login(tasks, email="nobody@example.test"), 401, "invalid_credentials")
    problem(login(tasks, password=WRONG), 401, "invalid_credentials")
    assert calls == [True, False]  # the dummy hash for the unknown identity, the real one otherwise


@BACKENDS
def test_a_refused_password_change_costs_no_hashing(tasks, monkeypatch):
    """Argon2 runs only once every rule has passed, so a refused request is cheap to answer."""
    ada = signup(tasks)["access_token"]
    eve = signup(tasks, email="eve@example.test")["access_token"]
    eve_id = me(tasks, eve).json()["id"]
    router = sys.modules["tasks.routers.user"]
    calls: list[str] = []
    real = router.hash_password

    async def spy(password: str) -> str:
        calls.append(password)
        return await real(password)

    monkeypatch.setattr(router, "hash_password", spy)
    refused = tasks.client.patch(f"/api/users/{eve_id}", json={"password": "a new password of eve's"},
                                 headers={"Authorization": f"Bearer {ada}"})
    assert refused.status_code == 403, refused.text
    assert calls == []
    done = tasks.client.patch(f"/api/users/{eve_id}", json={"password": "a new password of eve's"},
                              headers={"Authorization": f"Bearer {eve}"})
    assert done.status_code == 200, done.text
    assert calls == ["a new password of eve's"]
    assert login(tasks, email="eve@example.test", password="a new password of eve's").status_code == 200


@BACKENDS
def test_bad_login_bodies(tasks):
    problem(tasks.client.post("/api/auth/login", json={"email": "a@b.test", "password": PASSWORD, "x": 1}),
            422, "validation_failed")
    problem(tasks.client.post("/api/auth/login", json={"email": "a@b.test"}), 422, "validation_failed")
    problem(tasks.client.post("/api/auth/login", json={"email": "a@b.test", "password": 12345}),
            422, "validation_failed")
    problem(tasks.client.post("/api/auth/login", content=f"email=a&password={PASSWORD}",
                              headers={"content-type": "application/x-www-form-urlencoded"}),
            415, "unsupported_media_type")
    problem(tasks.client.post("/api/auth/login", content=b"{nope", headers={"content-type": "application/json"}),
            400, "malformed_json")
    # Found by Schemathesis: PostgreSQL cannot compare text holding a NUL character, so this was a 500 there.
    [error] = problem(tasks.client.post("/api/auth/login", json={"email": "a\u0000@b.test", "password": PASSWORD}),
                      422, "validation_failed")["errors"]
    assert error["field"] == "email"


@BACKENDS
def test_me_is_401_when_anonymous(tasks):
    response = tasks.client.get("/api/me")
    problem(response, 401, "authentication_required")
    assert response.headers["www-authenticate"] == "Bearer"


# --- tokens ------------------------------------------------------------------------------------


@BACKENDS
def test_tokens_the_app_did_not_issue_or_that_expired_are_refused(tasks):
    user = signup(tasks)
    user_id, now = user["user"]["id"], int(tasks.clock())
    claims = {"sub": user_id, "iat": now, "exp": now + 600, "iss": "tasks"}
    assert me(tasks, jwt.encode(claims, SECRET, algorithm="HS256")).status_code == 200  # the control
    other_key = "another-key-that-is-also-long-enough-for-hs256-abcdefgh"
    forged = [
        jwt.encode(claims, other_key, algorithm="HS256"),  # bad signature
        f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",  # alg: none, no signature
        f"{b64({'alg': 'None', 'typ': 'JWT'})}.{b64(claims)}.",
        jwt.encode(claims, SECRET, algorithm="HS384"),  # right key, another algorithm
        jwt.encode({**claims, "iss": "someone-else"}, SECRET, algorithm="HS256"),
        jwt.encode({k: v for k, v in claims.items() if k != "exp"}, SECRET, algorithm="HS256"),
        jwt.encode({**claims, "sub": "not-an-id"}, SECRET, algorithm="HS256"),
        jwt.encode({**claims, "sub": str(uuid.uuid4())}, SECRET, algorithm="HS256"),  # nobody
        jwt.encode({**claims, "exp": now - 1}, SECRET, algorithm="HS256"),
        jwt.encode({**claims, "iat": now + 3600}, SECRET, algorithm="HS256"),  # issued in the future
        "not.a.token",
        "x" * 5000,
    ]
    for token in forged:
        response = me(tasks, token)
        problem(response, 401, "invalid_token")
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', token
    token = user["access_token"]
    for header in [f"Basic {token}", "Bearer", f"Bearer {token} extra", token]:
        problem(tasks.client.get("/api/me", headers={"Authorization": header}), 401, "invalid_token")
    assert me(tasks, token, scheme="bearer").status_code == 200  # the scheme is case-insensitive


@BACKENDS
def test_a_token_expires_after_its_lifetime(tasks):
    token = signup(tasks)["access_token"]
    tasks.clock.advance(3599)
    assert me(tasks, token).status_code == 200
    tasks.clock.advance(1)
    assert "expired" in problem(me(tasks, token), 401, "invalid_token")["detail"]


@BACKENDS
def test_tokens_of_a_deleted_or_deactivated_user_stop_working_at_once(tasks):
    User = tasks.models.User
    ada = signup(tasks)
    bob = signup(tasks, email="bob@example.test")
    tasks.execute(update(User).where(User.id == uuid.UUID(ada["user"]["id"])).values(active=False))
    detail = problem(me(tasks, ada["access_token"]), 401, "invalid_token")["detail"]
    assert "inactive" in detail
    # An inactive account cannot sign in either (403 once the password is right).
    problem(login(tasks), 403, "account_inactive")
    problem(login(tasks, password=WRONG), 401, "invalid_credentials")
    tasks.execute(delete(User).where(User.id == uuid.UUID(bob["user"]["id"])))
    problem(me(tasks, bob["access_token"]), 401, "invalid_token")


@BACKENDS
def test_a_role_change_shows_at_once(tasks):
    User = tasks.models.User
    ada = signup(tasks)
    assert me(tasks, ada["access_token"]).json()["role"] == "member"
    tasks.execute(update(User).where(User.id == uuid.UUID(ada["user"]["id"])).values(role="admin"))
    assert me(tasks, ada["access_token"]).json()["role"] == "admin"


def test_token_lifetime_comes_from_the_environment(tmp_path, monkeypatch):
    app, _ = serve("tasks", tmp_path, f"sqlite:///{tmp_path / 'app.db'}", monkeypatch)
    monkeypatch.setenv("APP_TOKEN_TTL_SECONDS", "60")
    settings = import_package_module(tmp_path / "out", "tasks.settings", fresh=False).load_settings(
        {"DATABASE_URL": app.url})
    with TestClient(make_app(tmp_path / "out", "tasks", settings)) as client:
        app.client = client
        token = signup(app)
        assert token["expires_in"] == 60
        claims = jwt.decode(token["access_token"], SECRET, algorithms=["HS256"], issuer="tasks",
                            options={"verify_iat": False})
        assert claims["exp"] - claims["iat"] == 60 and claims["sub"] == token["user"]["id"]
        assert set(claims) == {"sub", "iat", "exp", "iss"}
        assert jwt.get_unverified_header(token["access_token"])["alg"] == "HS256"


# --- throttling --------------------------------------------------------------------------------


@BACKENDS
def test_five_failures_throttle_the_identity_even_with_the_right_password(tasks):
    signup(tasks)
    for _ in range(5):
        problem(login(tasks, password=WRONG), 401, "invalid_credentials")
    tasks.clock.advance(60)
    response = login(tasks)  # the right password: refused without being checked
    problem(response, 429, "too_many_attempts")
    assert response.headers["retry-after"] == str(15 * 60 - 60)
    problem(login(tasks, email="ADA@Example.TEST "), 429, "too_many_attempts")  # case and spaces: same key
    tasks.clock.advance(15 * 60 - 61)
    response = login(tasks)
    problem(response, 429, "too_many_attempts")
    assert response.headers["retry-after"] == "1"
    tasks.clock.advance(1)  # the window has ended
    assert login(tasks).status_code == 200
    other = signup(tasks, email="bob@example.test")  # other identities were never affected
    assert other["user"]["email"] == "bob@example.test"


@BACKENDS
def test_throttling_does_not_check_the_password(tasks, monkeypatch):
    signup(tasks)
    for _ in range(5):
        login(tasks, password=WRONG)
    monkeypatch.setattr(tasks.auth, "_verify", lambda *args: pytest.fail("checked a password while throttled"))
    problem(login(tasks), 429, "too_many_attempts")


@BACKENDS
def test_a_success_clears_the_count(tasks):
    signup(tasks)
    for _ in range(4):
        problem(login(tasks, password=WRONG), 401, "invalid_credentials")
    assert login(tasks).status_code == 200
    with tasks.db() as session:
        assert session.scalars(select(tasks.models.AuthLoginFailure)).all() == []
    for _ in range(5):
        problem(login(tasks, password=WRONG), 401, "invalid_credentials")
    problem(login(tasks), 429, "too_many_attempts")


@BACKENDS
def test_unknown_identities_are_throttled_and_forgotten(tasks):
    for _ in range(5):
        problem(login(tasks, email="ghost@example.test"), 401, "invalid_credentials")
    problem(login(tasks, email="ghost@example.test"), 429, "too_many_attempts")
    with tasks.db() as session:
        [row] = session.scalars(select(tasks.models.AuthLoginFailure)).all()
        assert "ghost" not in row.login_key and len(row.login_key) == 64  # a hash, not what was typed
    tasks.clock.advance(15 * 60 + 1)
    problem(login(tasks, email="someone@example.test"), 401, "invalid_credentials")
    with tasks.db() as session:  # the ended window was cleaned up by the next attempt
        assert [r.failures for r in session.scalars(select(tasks.models.AuthLoginFailure))] == [1]


@BACKENDS
def test_concurrent_guesses_cannot_pass_the_limit(tasks):
    signup(tasks)
    statuses: list[int] = []
    lock = threading.Lock()

    def guess() -> None:
        status = login(tasks, password=WRONG).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * 5 + [429] * 7
    problem(login(tasks), 429, "too_many_attempts")


@BACKENDS
def test_an_outdated_hash_is_upgraded_at_login(tasks):
    from argon2 import PasswordHasher

    User = tasks.models.User
    ada = signup(tasks)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    tasks.execute(update(User).where(User.id == uuid.UUID(ada["user"]["id"])).values(password_hash=weak))
    assert login(tasks).status_code == 200
    with tasks.db() as session:
        stored = session.scalar(select(User.password_hash))
    assert stored != weak and not PasswordHasher().check_needs_rehash(stored)
    assert login(tasks).status_code == 200


# --- secrets and logs --------------------------------------------------------------------------


def _settings(tmp_path: Path, environment: str) -> Any:
    render_app("tasks", tmp_path)
    settings = import_package_module(tmp_path / "out", "tasks.settings")
    return settings.load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "APP_ENV": environment})


@pytest.mark.parametrize("secret", [None, "", "too-short-0123456789", "DEVELOPMENT"])
def test_production_refuses_a_missing_short_or_development_key(tmp_path, monkeypatch, secret):
    settings = _settings(tmp_path, "production")
    auth = import_package_module(tmp_path / "out", "tasks.auth", fresh=False)
    if secret is None:
        monkeypatch.delenv("APP_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("APP_SECRET_KEY", auth.DEVELOPMENT_SECRET_KEY if secret == "DEVELOPMENT" else secret)
    with pytest.raises(RuntimeError, match="APP_SECRET_KEY"):
        make_app(tmp_path / "out", "tasks", settings)


def test_production_starts_with_a_real_key(tmp_path, monkeypatch):
    settings = _settings(tmp_path, "production")
    monkeypatch.setenv("APP_SECRET_KEY", SECRET)
    make_app(tmp_path / "out", "tasks", settings)


def test_development_uses_the_development_key_and_warns_once(tmp_path, monkeypatch, caplog):
    settings = _settings(tmp_path, "development")
    monkeypatch.delenv("APP_SECRET_KEY", raising=False)
    auth = import_package_module(tmp_path / "out", "tasks.auth", fresh=False)
    with caplog.at_level(logging.WARNING):
        make_app(tmp_path / "out", "tasks", settings)
        make_app(tmp_path / "out", "tasks", settings)
    warnings = [r for r in caplog.records if "APP_SECRET_KEY" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert auth.load_auth_config(settings).secret_key == auth.DEVELOPMENT_SECRET_KEY
    assert SECRET not in repr(auth.load_auth_config(settings, {"APP_SECRET_KEY": SECRET}))
    monkeypatch.setenv("APP_SECRET_KEY", "short")
    with pytest.raises(RuntimeError, match="32 bytes"):  # a key that is set must be a real one
        make_app(tmp_path / "out", "tasks", settings)


@BACKENDS
def test_passwords_and_hashes_never_appear_in_responses_or_logs(tasks, caplog):
    # Everything at INFO and the app's own loggers at DEBUG. (A database driver's DEBUG log, such
    # as aiosqlite's, prints statement parameters: that level is for debugging a driver, not for a server.)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="tasks")
    responses = [
        tasks.client.post("/api/auth/signup", json={"email": "ada@example.test", "name": "Ada", "password": PASSWORD}),
        tasks.client.post("/api/auth/signup", json={"email": "ada@example.test", "name": "A", "password": PASSWORD}),
        tasks.client.post("/api/auth/signup", json={"email": "x", "name": "", "password": WRONG[:5]}),
        tasks.client.post("/api/auth/signup", json={"email": "y@example.test", "name": "Y", "password": 123456789012}),
        login(tasks),
        login(tasks, password=WRONG),
        login(tasks, email="nobody@example.test", password=WRONG),
        tasks.client.post("/api/auth/login", json={"email": "ada@example.test", "password": WRONG, "extra": WRONG}),
    ]
    token = responses[0].json()["access_token"]
    responses.append(me(tasks, token))
    for _ in range(5):
        responses.append(login(tasks, password=WRONG))
    with tasks.db() as session:
        stored = session.scalar(select(tasks.models.User.password_hash))
    secrets = [PASSWORD, WRONG, WRONG[:5], "123456789012", stored, stored.split("$")[-1], "$argon2"]
    for response in responses:
        for secret in secrets:
            assert secret not in response.text, (response.request.url, response.text)
    assert any(r.name == "tasks.auth" for r in caplog.records)  # the auth module did log
    for secret in secrets:
        assert secret not in caplog.text


# --- an app with other names and without sign-up ---------------------------------------------


@BACKENDS
def test_camel_case_token_scheme_integer_ids_and_soft_delete(club):
    response = club.client.post("/v2/auth/signup", json={"userName": "ada", "secret": PASSWORD,
                                                         "displayName": "Ada"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"user", "accessToken", "tokenType", "expiresIn"} and body["tokenType"] == "token"
    assert isinstance(body["user"]["id"], int) and body["user"]["role"] == "member"
    token = body["accessToken"]
    got = club.client.get("/v2/me", headers={"Authorization": f"Token {token}"})
    assert got.status_code == 200 and got.json() == {"member": body["user"]}
    problem(club.client.get("/v2/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token")
    logged_in = club.client.post("/v2/auth/login", json={"userName": "ada", "secret": PASSWORD})
    assert set(logged_in.json()) == {"accessToken", "tokenType", "expiresIn"}
    problem(club.client.post("/v2/auth/login", json={"user_name": "ada", "secret": PASSWORD}),
            422, "validation_failed")
    Member = club.models.Member
    club.execute(update(Member).where(Member.id == body["user"]["id"]).values(
        deleted_at=datetime.datetime.now(datetime.timezone.utc)))
    problem(club.client.get("/v2/me", headers={"Authorization": f"Token {token}"}), 401, "invalid_token")
    problem(club.client.post("/v2/auth/login", json={"userName": "ada", "secret": PASSWORD}),
            401, "invalid_credentials")


def test_without_signup_there_is_no_signup_endpoint(tmp_path, monkeypatch):
    app, out = serve("expenses", tmp_path, f"sqlite:///{tmp_path / 'app.db'}", monkeypatch)
    assert not (out / "expenses/routers/auth.py").read_text().count("def signup")
    with app.client as client:
        response = client.post("/api/v1/auth/signup", json={"email": "a@b.test", "full_name": "A",
                                                           "password": PASSWORD})
        assert response.status_code in (404, 405)
        problem(client.get("/api/v1/me"), 401, "authentication_required")
        problem(client.post("/api/v1/auth/login", json={"email": "a@b.test", "password": PASSWORD}),
                401, "invalid_credentials")


# --- create-admin ------------------------------------------------------------------------------


def create_admin(out: Path, package: str, url: str, args: list[str], password: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "APP_ENV")}
    env.update(DATABASE_URL=url, PYTHONPATH=str(out))
    return subprocess.run([sys.executable, "-m", package, "create-admin", *args], cwd=out, env=env,
                          input=password + "\n", capture_output=True, text=True, timeout=120)


@BACKENDS
def test_create_admin_makes_an_admin_who_can_sign_in(tmp_path, monkeypatch, new_database, backend):
    out, url = render_app("expenses", tmp_path), new_database()
    done = create_admin(out, "expenses", url, ["--email", "root@example.test", "--full-name", "Root"], PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "root@example.test" in done.stdout and PASSWORD not in done.stdout + done.stderr
    again = create_admin(out, "expenses", url, ["--email", "ROOT@example.test", "--full-name", "Root 2"], PASSWORD)
    assert again.returncode == 1 and "already exists" in again.stderr
    app, _ = serve("expenses", tmp_path, url, monkeypatch, create_schema=False, out=out)
    with app.client as client:
        response = client.post("/api/v1/auth/login", json={"email": "root@example.test", "password": PASSWORD})
        assert response.status_code == 200, response.text
        got = client.get("/api/v1/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"})
        assert got.json()["role"] == "admin" and got.json()["full_name"] == "Root"


def test_create_admin_validates_its_input(tmp_path):
    out, url = render_app("tasks", tmp_path), f"sqlite:///{tmp_path / 'app.db'}"
    short = create_admin(out, "tasks", url, ["--email", "root@example.test", "--name", "Root"], "Zq9!xY")
    assert short.returncode == 2 and "password" in short.stderr and "Zq9!xY" not in short.stderr
    missing = create_admin(out, "tasks", url, ["--email", "root@example.test"], PASSWORD)
    assert missing.returncode == 2 and "--name" in missing.stderr
    role = create_admin(out, "tasks", url, ["--email", "root@example.test", "--name", "Root", "--role", "boss"],
                        PASSWORD)
    assert role.returncode == 2 and "invalid choice" in role.stderr
    member = create_admin(out, "tasks", url, ["--email", "m@example.test", "--name", "M", "--role", "member",
                                              "--active", "false"], PASSWORD)
    assert member.returncode == 0, member.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT role, active FROM users")).one() == ("member", False)
    engine.dispose()


def test_create_admin_help_and_bad_arguments_touch_no_database(tmp_path):
    out, db = render_app("tasks", tmp_path), tmp_path / "app.db"
    url = f"sqlite:///{db}"
    helped = create_admin(out, "tasks", url, ["--help"], PASSWORD)
    assert helped.returncode == 0 and "--email" in helped.stdout
    short = create_admin(out, "tasks", url, ["--email", "root@example.test", "--name", "Root"], "short")
    assert short.returncode == 2
    assert not db.exists()  # neither created the database nor ran a migration
    assert not list(out.glob("*.db"))


def test_create_admin_needs_a_role_when_the_spec_has_no_admin(tmp_path):
    out, url = render_app("club", tmp_path), f"sqlite:///{tmp_path / 'app.db'}"
    no_role = create_admin(out, "club", url, ["--user-name", "root", "--display-name", "Root"], PASSWORD)
    assert no_role.returncode == 2 and "--role" in no_role.stderr
    owner = create_admin(out, "club", url, ["--user-name", "root", "--display-name", "Root", "--role", "owner"],
                         PASSWORD)
    assert owner.returncode == 0, owner.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT user_name, role FROM members")).one() == ("root", "owner")
    engine.dispose()


def test_nothing_is_generated_without_auth(tmp_path):
    ir = _ir(REPO / "tests/specs/catalog")
    assert ir.auth is None and auth_files(ir) == [] and main_auth_context(ir) is None
    files = render_into(REPO / "tests/specs/catalog", tmp_path / "out")
    assert not any(path.endswith("auth.py") for path in files)
    assert b"auth_login_failures" not in files["catalog/models.py"]
    assert b"create-admin" not in files["catalog/__main__.py"]
