"""Schemathesis against every example app, from the OpenAPI document the app itself serves.

Each app (tests/specs/catalog, specs/tasks, specs/expenses) is generated, served in process
(ASGI) on SQLite and on PostgreSQL, given signed-in users, and tested with every check
Schemathesis has, stateless (examples, coverage and fuzzing phases, positive and negative
data) and stateful (sequences that follow the document's links: create -> read -> change ->
delete). Any failure is a bug in the generator (or its document), never something to relax here.

The run is reproducible: a fixed seed, derandomized generation, no example database.
KEEL_REQUIRE_POSTGRES=1 turns an unreachable PostgreSQL into a failure; otherwise it is skipped.
KEEL_SCHEMATHESIS_EXAMPLES raises the number of examples for a deeper local run.

Schemathesis is driven through its Python engine (``schemathesis.engine.from_schema``, what
``schemathesis run`` runs, with every phase) on a schema loaded with ``schemathesis.openapi.from_asgi``.
Its pytest integration does not fit: ``schemathesis.pytest.from_fixture`` sets ``Function._nodeid``,
which pytest 9.2 no longer has, and ``schema.parametrize()`` needs the app when tests are collected.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from argon2 import PasswordHasher
from schemathesis.python import asgi
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.conftest import REPO
from tests.generated_app import import_package_module, render_into

PG_ADMIN_URL = os.environ.get("KEEL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SEED = 20240501
SECRET = "a-schemathesis-signing-key-that-is-long-enough-for-hs256-0123"
PASSWORD = "correct horse battery staple"
# Per operation in the fuzzing phase, and scenarios in the stateful one; raise it locally for a deeper run.
MAX_EXAMPLES = int(os.environ.get("KEEL_SCHEMATHESIS_EXAMPLES", "15"))
# 12: creates take an Idempotency-Key header too, which Schemathesis also fuzzes, so in 8 steps too few
# creates succeeded for a sequence to reach a PATCH or DELETE of a created record.
STATEFUL_STEPS = 12

# app -> (spec, {role: extra columns of its user}); the first role is the admin used for stateless runs.
APPS: dict[str, tuple[Path, dict[str, dict[str, Any]]]] = {
    "catalog": (REPO / "tests/specs/catalog", {}),
    "tasks": (REPO / "specs/tasks", {"admin": {"name": "Admin"}, "member": {"name": "Member"}}),
    "expenses": (REPO / "specs/expenses", {"admin": {"full_name": "Admin"}, "employee": {"full_name": "Employee"}}),
}


@dataclass
class Served:
    name: str
    app: Any  # the ASGI application
    prefix: str
    scheme: str | None
    tokens: dict[str, str]  # role -> access token
    operations: set[str]  # "GET /api/tasks", ... as the app's own document lists them


# --- the one check that needs a word of judgement ------------------------------------------------------

# Schemathesis's `positive_data_acceptance` expects every request that its schema allows to succeed
# (or be refused for authorization, absence or conflict). These refusals of schema-valid requests are
# right by design, because they depend on the server's state, which no JSON Schema can describe:
# - 422 `unknown_reference`: a well-formed id that refers to no record (the app checks references and
#   names the field; a schema can say "a UUID", never "the id of an existing Project");
# - 412 `stale_version`: an If-Match that is well formed but not the record's current version;
# - 400 `bad_cursor`: a cursor the server never issued (cursors are opaque tokens of the server's).
# So the built-in check runs unchanged, and only a failure whose answer is exactly one of these
# problems is forgiven; any other refusal of valid data (a schema the app does not honour) still fails.
# - 422 `idempotency_key_reused`: an Idempotency-Key an earlier request already used with another body;
# - 422 `invariant_violated`: a spec invariant over several fields, today's date or related records
#   (`spent_on <= today()`); the response names the rule, and the OpenAPI document lists the refusal.
STATE_DEPENDENT = {(412, "stale_version"), (400, "bad_cursor"), (422, "unknown_reference"),
                   (422, "idempotency_key_reused"), (422, "invariant_violated")}


def _refused_for_state(response: Any) -> bool:
    try:
        problem = response.json()
    except ValueError:
        return False
    if not isinstance(problem, dict):
        return False
    status, code = response.status_code, problem.get("code")
    if code == "validation_failed":  # unknown_reference is reported per field, among the validation errors
        codes = {e.get("code") for e in problem.get("errors") or [{}]}
        return codes == {"unknown_reference"} and (status, "unknown_reference") in STATE_DEPENDENT
    return (status, code) in STATE_DEPENDENT


@schemathesis.check
def positive_data_acceptance_given_the_state(ctx, response, case):
    """`positive_data_acceptance`, forgiving only the state-dependent refusals above."""
    from schemathesis.openapi.checks import RejectedPositiveData
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _refused_for_state(response):
            return None
        raise


# --- databases -----------------------------------------------------------------------------------------


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


def _database(backend: str, request, tmp: Path) -> tuple[str, Any]:
    """A fresh database: (sync URL, a function that drops it)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'app.db'}", lambda: None
    admin = request.getfixturevalue("pg_admin")
    name = f"keel_st_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


# --- the served apps -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """Each app generated once, for both backends."""
    out = {}
    for name, (spec, _) in APPS.items():
        out[name] = tmp_path_factory.mktemp(f"st-{name}")
        render_into(spec, out[name])
    return out


def _serve(name: str, url: str, out: Path) -> Served:
    _, roles = APPS[name]
    models = import_package_module(out, f"{name}.models")
    settings_module = import_package_module(out, f"{name}.settings", fresh=False)
    app_module = import_package_module(out, f"{name}.app", fresh=False)
    engine = create_engine(url)
    models.Base.metadata.create_all(engine)
    prefix, scheme = "/api/v1" if name == "expenses" else "/api", None
    if roles:
        auth = import_package_module(out, f"{name}.auth", fresh=False)
        scheme = auth.SCHEME
        # Argon2 at its cheapest: Schemathesis signs up and logs in hundreds of times, and the cost of a hash
        # is not what is tested here (tests/test_generated_auth.py tests the real parameters).
        auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        auth._dummy_hash.cache_clear()
        user_model = next(m.class_ for m in models.Base.registry.mappers if m.class_.__tablename__ ==
                          {"tasks": "users", "expenses": "employees"}[name])
        password_hash = asyncio.run(auth.hash_password(PASSWORD))
        with Session(engine) as session:  # as `create-admin` makes them
            for role, extra in roles.items():
                session.add(user_model(email=f"{role}@example.test", password_hash=password_hash, role=role,
                                       active=True, **extra))
            session.commit()
    engine.dispose()
    settings = settings_module.load_settings({"DATABASE_URL": url})
    app = app_module.create_app(settings)
    tokens = {}
    with asgi.get_client(app) as client:  # signs in through the API, as a client would
        for role in roles:
            response = client.post(f"{prefix}/auth/login", json={"email": f"{role}@example.test", "password": PASSWORD})
            assert response.status_code == 200, response.text
            tokens[role] = response.json()["access_token"]
        document = client.get("/openapi.json").json()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    return Served(name, app, prefix, scheme, tokens, operations)


@pytest.fixture(scope="module", params=[(app, backend) for backend in ("sqlite", "postgresql") for app in APPS],
                ids=lambda p: f"{p[0]}-{p[1]}")
def served(request, tmp_path_factory, monkeypatch_module, rendered):
    name, backend = request.param
    url, drop = _database(backend, request, tmp_path_factory.mktemp(f"st-{name}-{backend}"))
    try:
        yield _serve(name, url, rendered[name])
    finally:
        asgi.shutdown_lifespans()  # closes the apps' database pools
        drop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APP_SECRET_KEY", SECRET)
        yield patch


def _config(served: Served, role: str | None, phases: list[str]) -> schemathesis.Config:
    config: dict[str, Any] = {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none", "mode": "all"},
        "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")},
        # Every check, the built-in positive_data_acceptance replaced by its state-aware form (above).
        "checks": {"enabled": True, "positive_data_acceptance": {"enabled": False}},
    }
    config["phases"]["stateful"]["max-steps"] = STATEFUL_STEPS
    if role is not None:
        config["auth"] = {"openapi": {served.scheme: {"bearer": served.tokens[role]}}}
    return schemathesis.Config.from_dict(config)


@dataclass
class Outcome:
    problems: list[str]  # every failed check and every error, described with the request that caused it
    answers: Counter  # (operation, status) -> how many times
    followed_links: int  # steps that followed a link from an earlier answer (stateful)


def _run(served: Served, role: str | None, phases: list[str]) -> Outcome:
    """Run Schemathesis's engine (what `schemathesis run` runs) on the app."""
    from schemathesis.engine import events, from_schema

    schema = schemathesis.openapi.from_asgi("/openapi.json", served.app, config=_config(served, role, phases))
    outcome = Outcome([], Counter(), 0)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for case_id, node in recorder.cases.items():
                interaction = recorder.interactions.get(case_id)
                if interaction is not None and interaction.response is not None:
                    outcome.answers[(node.value.operation.label, interaction.response.status_code)] += 1
                outcome.followed_links += node.transition is not None and node.is_transition_applied
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        interaction = recorder.interactions.get(case_id)
                        answer = ""
                        if interaction is not None and interaction.response is not None:
                            answer = (f"\n-> {interaction.response.status_code} "
                                      f"{interaction.response.content[:400].decode(errors='replace')}")
                        outcome.problems.append(f"[{event.phase.value}] {failure.operation}: {check.name}: "
                                                f"{failure.title}\n{failure.message}\n"
                                                f"{check.failure_info.code_sample}{answer}")
        elif isinstance(event, events.NonFatalError):
            outcome.problems.append(f"[{event.phase}] {event.label}: error: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            outcome.problems += [f"after run: {f.title}: {f.message}" for f in event.failures]
    return outcome


def _report(outcome: Outcome) -> str:
    problems = list(dict.fromkeys(outcome.problems))
    return f"{len(problems)} failures:\n\n" + "\n\n".join(problems)


# --- the tests -----------------------------------------------------------------------------------------


def test_every_operation_answers_as_documented(served):
    """Stateless: every operation, with examples, boundary values and random valid and invalid data, as an admin."""
    outcome = _run(served, next(iter(served.tokens), None), ["examples", "coverage", "fuzzing"])
    assert not outcome.problems, _report(outcome)
    operations = {label for label, _ in outcome.answers}
    assert operations == served.operations  # every operation was called
    # and the token got past sign-in to the real logic: every list answered, and some records were created
    succeeded = {label for (label, status) in outcome.answers if status < 300}
    lists = {label for label in served.operations if label.startswith("GET ") and "{" not in label}
    assert lists <= succeeded, sorted(lists - succeeded)
    assert any(label.startswith("POST ") for label in succeeded), sorted(succeeded)


def test_sequences_of_operations_answer_as_documented(served):
    """Stateful: sequences along the document's links, as a non-admin user (none in an app without sign-in)."""
    roles = list(served.tokens)
    outcome = _run(served, roles[-1] if roles else None, ["stateful"])
    assert not outcome.problems, _report(outcome)
    assert outcome.followed_links > 0, dict(outcome.answers)  # the links led somewhere:
    changed = {label for (label, status) in outcome.answers if status < 300 and label.split()[0] in ("PATCH", "DELETE")}
    assert changed, dict(outcome.answers)  # to records this user created, changed or deleted
