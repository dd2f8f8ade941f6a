"""Hooks, custom routers and middleware: user modules beside the spec (docs/extensions.md).

A small spec written here (`hooked`) declares a hook at every point (CRUD before/after,
a transition, an action), a router and a middleware, all in ``hooks.py`` beside it. Served
on SQLite and PostgreSQL, over HTTP: each hook runs at its point inside the transaction
(it writes Trace rows), a refusal is the hook's own problem+json and leaves nothing behind
(no row, no trace, no audit entry), a crash is a plain 500 with nothing written. Start-up
fails clearly for a broken module; ``keel validate`` and regeneration are checked too.
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.generated_app import import_package_module, render_into
from tests.test_generated_auth import BACKENDS, PASSWORD, SECRET, new_database, pg_admin, problem  # noqa: F401

SPEC = """\
keel: 1
app: {name: hooked, title: Hooked, version: "1.0.0"}
api: {prefix: /api}
auth: {user: User, identity: email, password: password, roles: [member], default_role: member, signup: true}
extensions:
  modules: {hooks: hooks.py}
  routers: [hooks.router]
  middleware: [hooks.StampMiddleware]
entities:
  User:
    fields:
      email: {type: email, unique: true, max_length: 254}
      name: {type: string, min_length: 1, max_length: 120}
      password: {type: password, min_length: 12}
    operations: [read]
    permissions: {read: user != null}
  Budget:
    audit: true
    fields:
      title: {type: string, min_length: 1, max_length: 200}
      amount: {type: integer, min: 0}
      note: {type: string, required: false, max_length: 200}
    permissions: {all: user != null}
    hooks:
      before_create: hooks.before_create
      after_create: hooks.after_create
      before_update: hooks.before_update
      after_update: hooks.after_update
      before_delete: hooks.before_delete
    workflow:
      states: [open, closed]
      initial: open
      final: [closed]
      transitions:
        close: {from: open, to: closed, permission: user != null, hook: hooks.on_close}
    actions:
      bump:
        permission: user != null
        effects: [{set: {note: "'bumped'"}}]
        hook: hooks.on_bump
  Trace:
    fields:
      what: {type: string, max_length: 200}
    operations: [list]
    permissions: {list: user != null}
"""

HOOKS = '''\
"""Hooks of the `hooked` test spec: each leaves a Trace row, some refuse or crash on purpose."""

from fastapi import APIRouter
from starlette.middleware.base import BaseHTTPMiddleware

from hooked.models import Trace


async def _trace(ctx, what):
    ctx.session.add(Trace(what=what))
    await ctx.session.flush()


async def before_create(ctx):
    ctx.record.note = f"by {ctx.user.email}"  # a hook may change the record before it is saved
    await _trace(ctx, f"before_create {ctx.record.title} {ctx.operation} {ctx.entity} {sorted(ctx.input)}")
    if ctx.record.title == "refuse":
        raise ctx.refuse("Budgets named refuse are refused.", status=403, code="over_budget")
    if ctx.record.title == "crash":
        raise RuntimeError("secret internal detail")


def after_create(ctx):
    ctx.session.add(Trace(what=f"after_create {ctx.record.title} {ctx.record.id is not None}"))
    if ctx.record.title == "refuse-late":
        raise ctx.refuse("Too late.", code="late_refusal", extra={"limit": 100})


async def before_update(ctx):
    await _trace(ctx, f"before_update {ctx.record.amount} {sorted(ctx.input)}")
    if ctx.input.get("amount", 0) > 1000:
        raise ctx.refuse("Budgets stay under 1000.", code="over_budget")


def after_update(ctx):
    ctx.session.add(Trace(what=f"after_update {ctx.record.amount}"))


async def before_delete(ctx):
    await _trace(ctx, f"before_delete {ctx.record.title}")
    if ctx.record.title == "keep":
        raise ctx.refuse("This budget is kept.", status=409, code="kept")


async def on_close(ctx):
    await _trace(ctx, f"on_close {ctx.record.status} {ctx.operation}")
    if ctx.record.amount == 13:
        raise ctx.refuse("Unlucky budgets stay open.", code="unlucky")


def on_bump(ctx):
    ctx.session.add(Trace(what=f"on_bump {ctx.record.note} {ctx.operation}"))
    if ctx.record.amount > 1:
        raise ValueError("big budgets are not bumped")


router = APIRouter()


@router.get("/api/ping")
async def ping():
    return {"pong": True}


class StampMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers["X-Stamp"] = "hooks"
        return response
'''


def write_spec(root: Path, spec: str = SPEC, hooks: str = HOOKS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "keel.yaml").write_text(spec, encoding="utf-8")
    (root / "hooks.py").write_text(hooks, encoding="utf-8")
    return root


def app_module(out: Path):
    return import_package_module(out, "hooked.app")


class Hooked:
    def __init__(self, tmp_path: Path, url: str, monkeypatch) -> None:
        self.out = tmp_path / "out"
        render_into(write_spec(tmp_path / "spec"), self.out)
        app = app_module(self.out)
        models = import_package_module(self.out, "hooked.models", fresh=False)
        settings = import_package_module(self.out, "hooked.settings", fresh=False)
        self.engine = create_engine(url)
        models.Base.metadata.drop_all(self.engine)
        models.Base.metadata.create_all(self.engine)
        monkeypatch.setenv("APP_SECRET_KEY", SECRET)
        monkeypatch.delenv("APP_EXTENSIONS_DIR", raising=False)
        self.client = TestClient(app.create_app(settings.load_settings({"DATABASE_URL": url})),
                                 raise_server_exceptions=False)
        self.client.__enter__()
        body = self.client.post("/api/auth/signup", json={"email": "ada@example.test", "name": "Ada",
                                                          "password": PASSWORD}).json()
        self.headers = {"Authorization": f"Bearer {body['access_token']}"}

    def call(self, method: str, path: str, **kwargs: Any):
        return self.client.request(method, "/api" + path, headers=self.headers, **kwargs)

    def traces(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT what FROM traces ORDER BY created_at, what"))]

    def count(self, table: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.engine.dispose()


@pytest.fixture
def hooked(tmp_path, monkeypatch, new_database):
    h = Hooked(tmp_path, new_database(), monkeypatch)
    yield h
    h.close()


@BACKENDS
def test_each_hook_runs_at_its_point_inside_the_transaction(hooked):
    h = hooked
    created = h.call("POST", "/budgets", json={"title": "Travel", "amount": 1})
    assert created.status_code == 201, created.text
    budget = created.json()
    assert budget["note"] == "by ada@example.test"  # set by before_create, saved with the row
    assert h.traces() == ["before_create Travel create Budget ['amount', 'note', 'title']",
                          "after_create Travel True"]
    changed = h.call("PATCH", f"/budgets/{budget['id']}", json={"amount": 5})
    assert changed.status_code == 200, changed.text
    assert h.traces()[2:] == ["before_update 5 ['amount']", "after_update 5"]
    closed = h.call("POST", f"/budgets/{budget['id']}/close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert h.traces()[4:] == ["on_close closed transition"]  # after the effects: the record is already closed
    assert h.call("DELETE", f"/budgets/{budget['id']}").status_code == 204
    assert h.traces()[5:] == ["before_delete Travel"]
    assert h.count("budgets") == 0


@BACKENDS
def test_a_refusal_is_the_hooks_problem_and_nothing_is_written(hooked):
    h = hooked
    body = problem(h.call("POST", "/budgets", json={"title": "refuse", "amount": 1}), 403, "over_budget")
    assert body["detail"] == "Budgets named refuse are refused."
    late = problem(h.call("POST", "/budgets", json={"title": "refuse-late", "amount": 1}), 422, "late_refusal")
    assert late["limit"] == 100
    # Both hooks wrote a Trace row before refusing: rolled back with the budget and its audit entry.
    assert (h.count("budgets"), h.count("traces"), h.count("audit_log")) == (0, 0, 0)
    kept = h.call("POST", "/budgets", json={"title": "keep", "amount": 13}).json()
    before = (h.count("traces"), h.count("audit_log"))
    problem(h.call("PATCH", f"/budgets/{kept['id']}", json={"amount": 5000}), 422, "over_budget")
    problem(h.call("DELETE", f"/budgets/{kept['id']}"), 409, "kept")
    problem(h.call("POST", f"/budgets/{kept['id']}/close"), 422, "unlucky")
    stored = h.call("GET", f"/budgets/{kept['id']}").json()
    assert (stored["amount"], stored["status"]) == (13, "open")
    assert (h.count("traces"), h.count("audit_log")) == before


@BACKENDS
def test_a_crashing_hook_is_a_plain_500_and_rolls_back(hooked, caplog):
    h = hooked
    with caplog.at_level(logging.ERROR, logger="hooked.extensions"):
        response = h.call("POST", "/budgets", json={"title": "crash", "amount": 1})
    body = problem(response, 500, "internal_error")
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert body["detail"] == "Something went wrong on our side."
    assert "Budget.before_create" in caplog.text and "secret internal detail" in caplog.text
    assert (h.count("budgets"), h.count("traces"), h.count("audit_log")) == (0, 0, 0)
    small = h.call("POST", "/budgets", json={"title": "Small", "amount": 1}).json()
    assert h.call("POST", f"/budgets/{small['id']}/bump").json()["note"] == "bumped"
    assert h.traces()[-1] == "on_bump bumped action"  # after the effects
    big = h.call("POST", "/budgets", json={"title": "Big", "amount": 2}).json()
    traces = h.count("traces")
    problem(h.call("POST", f"/budgets/{big['id']}/bump"), 500, "internal_error")  # the hook crashes
    assert h.call("GET", f"/budgets/{big['id']}").json()["note"] == "by ada@example.test"
    assert h.count("traces") == traces


@BACKENDS
def test_the_specs_router_and_middleware_are_mounted(hooked):
    ping = hooked.client.get("/api/ping")
    assert ping.status_code == 200 and ping.json() == {"pong": True}
    assert ping.headers["X-Stamp"] == "hooks"
    assert hooked.call("GET", "/traces").headers["X-Stamp"] == "hooks"  # around the generated routes too


# --- start-up -------------------------------------------------------------------------------------------


def _startup_error(tmp_path: Path, monkeypatch, hooks: str, spec: str = SPEC) -> str:
    out = tmp_path / "out"
    render_into(write_spec(tmp_path / "spec", spec), out)
    (tmp_path / "spec" / "hooks.py").write_text(hooks, encoding="utf-8")  # changed after generation
    monkeypatch.delenv("APP_EXTENSIONS_DIR", raising=False)
    app = app_module(out)
    extensions = import_package_module(out, "hooked.extensions", fresh=False)
    settings = import_package_module(out, "hooked.settings", fresh=False)
    with pytest.raises(extensions.ExtensionError) as caught:
        app.create_app(settings.load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:"}))
    return str(caught.value)


def test_a_module_that_fails_to_import_stops_start_up(tmp_path, monkeypatch):
    message = _startup_error(tmp_path, monkeypatch, "raise ImportError('no such library: budgets_sdk')\n")
    assert "hooks.py" in message and "failed to import" in message and "budgets_sdk" in message


def test_serve_reports_a_broken_module_in_one_line_without_a_traceback(tmp_path):
    """`python -m <app> serve` checks the user modules before uvicorn starts."""
    import os
    import subprocess
    import sys

    out = tmp_path / "out"
    render_into(write_spec(tmp_path / "spec"), out)
    (tmp_path / "spec" / "hooks.py").write_text("raise ImportError('no such library: budgets_sdk')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("APP_EXTENSIONS_DIR", "DATABASE_URL")}
    env.update(PYTHONPATH=str(out), DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", APP_SECRET_KEY=SECRET)
    done = subprocess.run([sys.executable, "-m", "hooked", "serve", "--port", "0"], cwd=out, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "hooked: cannot start:" in done.stderr and "budgets_sdk" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_hook_stops_start_up_naming_it(tmp_path, monkeypatch):
    message = _startup_error(tmp_path, monkeypatch, HOOKS.replace("def after_update(ctx):", "def after_updated(ctx):"))
    assert "Budget.after_update" in message and "hooks.py" in message and "after_update" in message


def test_a_hook_with_the_wrong_signature_stops_start_up(tmp_path, monkeypatch):
    message = _startup_error(tmp_path, monkeypatch, HOOKS.replace("def on_bump(ctx):", "def on_bump(ctx, amount):"))
    assert "Budget.bump" in message and "on_bump(ctx, amount)" in message and "HookContext" in message


def test_a_router_that_is_not_a_router_stops_start_up(tmp_path, monkeypatch):
    message = _startup_error(tmp_path, monkeypatch, HOOKS + "\nrouter = 'nope'\n")
    assert "hooks.router" in message and "APIRouter" in message


def test_without_a_manifest_the_app_asks_for_the_extensions_dir(tmp_path, monkeypatch):
    out = tmp_path / "out"
    spec = write_spec(tmp_path / "spec")
    render_into(spec, out)
    (out / ".keel-manifest.json").unlink()
    monkeypatch.delenv("APP_EXTENSIONS_DIR", raising=False)
    app = app_module(out)
    extensions = import_package_module(out, "hooked.extensions", fresh=False)
    settings = import_package_module(out, "hooked.settings", fresh=False).load_settings(
        {"DATABASE_URL": "sqlite+aiosqlite:///:memory:"})
    with pytest.raises(extensions.ExtensionError, match="APP_EXTENSIONS_DIR"):
        app.create_app(settings)
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "hooks.py").write_text(HOOKS, encoding="utf-8")
    monkeypatch.setenv("APP_EXTENSIONS_DIR", str(moved))
    assert app.create_app(settings).state.extensions.directory == moved.resolve()


# --- keel validate and regeneration ----------------------------------------------------------------------


def _codes(spec: Path) -> list[tuple[str, int]]:
    from generator.pipeline import validate_path

    return [(d.code, d.span.line) for d in validate_path(spec).diagnostics]


def test_validate_checks_the_user_module_without_running_it(tmp_path):
    spec = write_spec(tmp_path / "spec", hooks="import sys\nsys.exit('validate must never run me')\n\n" + HOOKS)
    assert _codes(spec) == []
    line = SPEC.splitlines().index("      after_update: hooks.after_update") + 1
    write_spec(spec, SPEC.replace("after_update: hooks.after_update", "after_update: hooks.after_updated"))
    assert _codes(spec) == [("K553", line)]
    write_spec(spec, hooks=HOOKS.replace("def after_update(ctx):", "def after_update(ctx, extra):"))
    assert _codes(spec) == [("K554", line)]
    write_spec(spec, SPEC.replace("after_update: hooks.after_update", "after_update: hook.after_update"))
    assert _codes(spec) == [("K552", line)]
    write_spec(spec, hooks="def broken(:\n")
    assert [code for code, _ in _codes(spec)] == ["K551"]
    (spec / "hooks.py").unlink()
    assert [code for code, _ in _codes(spec)] == ["K550"]
    write_spec(spec, SPEC.replace("{hooks: hooks.py}", "{hooks: ../hooks.py}"))
    assert "K556" in [code for code, _ in _codes(spec)]
    trace_hook = "    operations: [list]\n    hooks: {before_delete: hooks.before_delete}\n"
    write_spec(spec, SPEC.replace("    operations: [list]\n", trace_hook))
    assert [code for code, _ in _codes(spec)] == ["K555"]


def test_regeneration_never_touches_the_user_module(tmp_path, monkeypatch):
    from generator.cli import main

    monkeypatch.setenv("KEEL_NO_CACHE", "1")
    spec = write_spec(tmp_path / "spec")
    out = tmp_path / "generated"
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    hooks = spec / "hooks.py"
    edited = HOOKS + "\n\ndef extra_helper(ctx):\n    return None  # the user's own edit\n"
    hooks.write_text(edited, encoding="utf-8")
    before = hooks.read_bytes()
    # The spec changes (a new field, a new hook point using the edited module): regenerate.
    changed = SPEC.replace("      note: {type: string, required: false, max_length: 200}\n",
                           "      note: {type: string, required: false, max_length: 200}\n      code: string?\n")
    (spec / "keel.yaml").write_text(changed, encoding="utf-8")
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    assert hooks.read_bytes() == before
    assert "code" in (out / "hooked" / "models.py").read_text(encoding="utf-8")
    assert not any(p.name == "hooks.py" for p in out.rglob("*.py"))  # user code never lands in the output
    # A spec that renames the hook without the module: validate reports it, generate refuses.
    (spec / "keel.yaml").write_text(changed.replace("hooks.on_bump", "hooks.on_bumped"), encoding="utf-8")
    assert main(["validate", str(spec)]) == 1
    assert [code for code, _ in _codes(spec)] == ["K553"]
    assert main(["generate", str(spec), "--out", str(out)]) == 1
    assert hooks.read_bytes() == before


def test_the_expenses_example_normalises_titles(tmp_path, monkeypatch):
    """specs/expenses declares hooks.normalise_title; the generated app finds it through the manifest."""
    from tests.conftest import REPO
    from tests.test_generated_workflows import _expenses

    c = _expenses(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", monkeypatch)
    try:
        created = c.post("emma", "/expense-reports", json={"title": "  Trip   to  Lyon "})
        assert created.status_code == 201, created.text
        assert created.json()["title"] == "Trip to Lyon"
        problem(c.patch("emma", created.headers["Location"].removeprefix("/api/v1"), json={"title": "   "}), 422,
                "blank_title")
        assert (REPO / "specs" / "expenses" / "hooks.py").is_file()
    finally:
        c.app.client.__exit__(None, None, None)
        c.app.close()


def test_a_hook_renamed_only_in_the_module_is_caught_even_by_a_cached_generate(tmp_path, monkeypatch):
    """The render cache skips validation for an unchanged spec: the user module is part of the fingerprint."""
    from generator.cli import main

    monkeypatch.delenv("KEEL_NO_CACHE", raising=False)
    spec = write_spec(tmp_path / "spec")
    out = spec / "generated"  # an output inside the spec directory is not an input
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    (spec / "hooks.py").write_text(HOOKS.replace("def on_close(ctx):", "def on_closing(ctx):"), encoding="utf-8")
    assert main(["generate", str(spec), "--out", str(out)]) == 1
    assert main(["check", str(spec), "--out", str(out)]) == 1


@pytest.mark.parametrize("definition,ok", [
    ("def after_update(ctx):", True),
    ("async def after_update(ctx):", True),
    ("def after_update(ctx, /):", True),
    ("def after_update(context, *, dry_run=False):", True),
    ("def after_update():", False),
    ("def after_update(ctx, other):", False),
    ("def after_update(*args):", False),
    ("def after_update(ctx, *, user):", False),
    ("def after_update(ctx=None):", False),
    ("class after_update:", False),
])
def test_validate_checks_each_hook_signature(tmp_path, definition, ok):
    hooks = HOOKS.replace("def after_update(ctx):", definition)
    assert definition in hooks
    spec = write_spec(tmp_path / "spec", hooks=hooks)
    line = SPEC.splitlines().index("      after_update: hooks.after_update") + 1
    assert _codes(spec) == ([] if ok else [("K554", line)])
