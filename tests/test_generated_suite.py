"""The test suite Keel writes into every generated app (``tests/`` beside the package).

The example apps (tasks, expenses) and tests/specs/catalog are rendered into temporary
directories and each app's own suite is run with pytest in a subprocess, as a user would run
it: on SQLite, and on PostgreSQL in a scratch database the suite creates and drops itself.
Without a reachable PostgreSQL those runs are skipped with the reason, unless
KEEL_REQUIRE_POSTGRES is set (as .ci/run does), which makes that a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import REPO
from tests.generated_app import render_into
from tests.test_generated_auth import CLUB_SPEC

PG_ADMIN_URL = os.environ.get("KEEL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
APPS = {"tasks": REPO / "specs/tasks", "expenses": REPO / "specs/expenses", "catalog": REPO / "tests/specs/catalog"}
# Fewer tests than this means a suite lost most of its cases (each app has a few hundred).
MIN_TESTS = 150


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for name, spec in APPS.items():
        directory = tmp_path_factory.mktemp(name)
        render_into(spec, directory)
        out[name] = directory
    # `club` (tests/test_generated_auth.py): camelCase wire names, envelopes, the Token scheme,
    # integer ids and soft delete, so the suite is checked on the API conventions the examples leave out.
    spec = tmp_path_factory.mktemp("club_spec")
    (spec / "keel.yaml").write_text(CLUB_SPEC, encoding="utf-8")
    out["club"] = tmp_path_factory.mktemp("club")
    render_into(spec, out["club"])
    return out


def _postgres_error() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server
        return str(exc)
    return None


@pytest.fixture(scope="module")
def postgres() -> str:
    """The server URL to give the generated suites (they create and drop their own database on it)."""
    error = _postgres_error()
    if error is not None:
        if os.environ.get("KEEL_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required (KEEL_REQUIRE_POSTGRES) but unreachable: {error}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {error}")
    return PG_ADMIN_URL


def _environment(database: str | None) -> dict[str, str]:
    """The environment of a user's shell: nothing of Keel's own test run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "KEEL_", "APP_")) and k not in ("DATABASE_URL", "TEST_DATABASE_URL",
                                                                          "PYTHONPATH")}
    if database is not None:
        env["TEST_DATABASE_URL"] = database
    return env


def start_suite(app: Path, database: str | None = None) -> subprocess.Popen:
    """``pytest`` in the app's directory, as a user would run it."""
    return subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=app,
                            env=_environment(database), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    try:
        output, _ = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, output, "")


def run_suite(app: Path, database: str | None = None) -> subprocess.CompletedProcess:
    return finish(start_suite(app, database))


@pytest.fixture(scope="module")
def suites(rendered):
    """suites(app, backend) -> the finished run. An app's SQLite and PostgreSQL runs go side by side."""
    started: dict[tuple[str, str], subprocess.Popen] = {}
    pg_ok = _postgres_error() is None

    def start(app: str, backend: str) -> None:
        if (app, backend) not in started:
            started[app, backend] = start_suite(rendered[app], PG_ADMIN_URL if backend == "postgresql" else None)

    def result(app: str, backend: str) -> subprocess.CompletedProcess:
        start(app, backend)
        if pg_ok:
            start(app, "postgresql")  # runs while this one is awaited
        return finish(started[app, backend])

    yield result
    for process in started.values():  # runs started but never awaited (deselected tests)
        if process.poll() is None:
            process.kill()
            process.communicate()


def passed(done: subprocess.CompletedProcess) -> int:
    """The number of tests that passed; anything failed, errored or skipped fails the check."""
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    summary = output.strip().splitlines()[-1]
    assert not re.search(r"failed|error|skipped|xfail|xpass|deselected", summary), summary
    found = re.search(r"(\d+) passed", summary)
    assert found, summary
    return int(found.group(1))


@pytest.mark.parametrize("app", sorted(APPS))
def test_the_generated_suite_passes_on_sqlite(suites, app):
    assert passed(suites(app, "sqlite")) >= MIN_TESTS


def test_the_generated_suite_follows_the_api_conventions_of_the_spec(rendered):
    assert passed(run_suite(rendered["club"])) >= 60  # one entity: fewer cases


@pytest.mark.parametrize("app", sorted(APPS))
def test_the_generated_suite_passes_on_postgresql(suites, postgres, app):
    assert passed(suites(app, "postgresql")) >= MIN_TESTS
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # the scratch database is gone
        left = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                            {"p": f"{app}_test_%"}).all()
    admin.dispose()
    assert left == []


def test_an_unreachable_test_database_fails_the_run_loudly(rendered):
    done = run_suite(rendered["catalog"], "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert done.returncode != 0
    assert "TEST_DATABASE_URL" in done.stdout + done.stderr


def test_the_suite_needs_nothing_of_keel_and_says_how_to_run(rendered):
    for app, directory in rendered.items():
        files = sorted((directory / "tests").glob("*.py"))
        assert {f.name for f in files} >= {"__init__.py", "conftest.py", "support.py", "test_entities.py",
                                           "test_changes.py"}
        for data in ("cases.json", "scenarios.json"):  # the cases, as data: each says where it comes from
            assert json.loads((directory / "tests" / data).read_text())["_comment"].startswith(
                f"Generated by Keel from the `{app}` spec")
        for path in files:
            source = path.read_text(encoding="utf-8")
            assert source.startswith(f"# Generated by Keel from the `{app}` spec"), path
            assert not re.search(r"^\s*(from|import) (generator|keel)\b", source, re.MULTILINE), path
            assert "pytest.skip" not in source and "pytest.mark.skip" not in source, path
        pyproject = (directory / "pyproject.toml").read_text(encoding="utf-8")
        assert re.search(r"^test = \[", pyproject, re.MULTILINE) and '"pytest' in pyproject
        readme = (directory / "README.md").read_text(encoding="utf-8")
        assert "TEST_DATABASE_URL=postgresql+psycopg://" in readme and "pytest" in readme
