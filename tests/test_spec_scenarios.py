"""Scenarios in the spec language: checks (K570-K579), coverage (K970), the IR, and the generated tests.

The generated scenario tests of both example apps run in subprocesses, as a user runs an
app's suite: on SQLite, and on PostgreSQL in a scratch database the suite creates and drops.
A scenario that expects what the rules refuse must make its generated test fail, saying
which step, what was expected and what came back.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from generator.checks.scenario_coverage import coverage
from generator.ir import build_ir, dump_ir
from generator.pipeline import validate_path
from tests.conftest import REPO
from tests.generated_app import render_into
from tests.test_generated_suite import (  # noqa: F401 - postgres is a fixture
    PG_ADMIN_URL, _environment, _postgres_error, finish, postgres,
)

TASKS = (REPO / "specs/tasks/keel.yaml").read_text(encoding="utf-8")
EXAMPLES = {"tasks": REPO / "specs/tasks", "expenses": REPO / "specs/expenses"}


def scenarios(body: str) -> str:
    return "scenarios:\n" + textwrap.indent(textwrap.dedent(body), "  ")


def check(validate, body: str):
    """The tasks spec with ``body`` as its scenarios.yaml: (code, line of scenarios.yaml, message) of each problem."""
    result = validate(TASKS, **{"scenarios.yaml": scenarios(body)})
    return [(d.code, d.span.line if d.span else None, d.message) for d in result.diagnostics], result


GOOD_START = """\
t:
  users: {ada: member, eve: member}
  given:
    - {as: ada, create: Project, with: {name: Apollo}, save: apollo}
  then:
"""


@pytest.mark.parametrize("step, code, fragment", [
    ("- {as: bob, list: Task, expect: 200}", "K571", "unknown scenario user `bob`"),
    ("- {as: ada, list: Tasks, expect: 200}", "K573", "unknown entity `Tasks`"),
    ("- {as: ada, create: User, with: {name: x}, expect: 201}", "K574", "User does not serve create"),
    ("- {as: ada, do: $apollo.launch, expect: 200}", "K575", "unknown transition or action `launch`"),
    ("- {as: ada, query: Task.everything, expect: 200}", "K575", "unknown query `everything`"),
    ("- {as: ada, create: Task, with: {name: x, project: $apollo}, expect: 201}", "K576", "unknown field `name`"),
    ("- {as: ada, read: $apollo, expect: {status: 200, body: {colour: red}}}", "K576", "unknown field `colour`"),
    ("- {as: ada, read: $launch, expect: 200}", "K577", "unknown record `launch`"),
    ("- {as: ada, create: Task, with: {title: x, project: $ghost}, expect: 201}", "K577", "unknown record `ghost`"),
    ("- {as: ada, create: Task, with: {title: x, project: $ada}, expect: 201}", "K578", "takes a Project ($ada is a User)"),
    ("- {as: ada, create: Task, with: {title: x, project: $apollo, priority: top}, expect: 201}", "K578",
     "one of low, normal, high, urgent"),
    ("- {as: ada, create: Task, with: {title: 5, project: $apollo}, expect: 201}", "K578", "takes a string"),
    ("- {as: ada, create: Task, with: {title: x, project: $apollo, due_date: soon}, expect: 201}", "K578",
     "takes a date"),
    ("- {as: ada, list: Task, read: $apollo, expect: 200}", "K579", "exactly one operation"),
    ("- {as: ada, list: Task}", "K579", "must say what it expects"),
    ("- {as: ada, read: $apollo, save: copy, expect: 200}", "K579", "only a create step can save"),
    ("- {as: ada, read: apollo, expect: 200}", "K579", "written `$name`"),
    ("- {as: ada, read: $apollo, expect: {status: 200, count: 1}}", "K579", "count is only for list"),
    ("- {as: ada, create: Project, with: {name: B}, save: ada, expect: 201}", "K579", "already names a user"),
])
def test_each_mistake_in_a_step_is_a_located_diagnostic(validate, step, code, fragment):
    found, _ = check(validate, GOOD_START + "    " + step + "\n")
    assert [c for c, _, _ in found if c != "K970"] == [code], found
    _, line, message = next(f for f in found if f[0] == code)
    assert line == 7 and fragment in message, found  # the step's own line in scenarios.yaml


def test_unknown_roles_and_bad_names_are_reported(validate):
    found, _ = check(validate, """\
        Bad-Name:
          users: {ada: owner}
          then:
            - {as: ada, list: Task, expect: 200}
    """)
    codes = sorted(c for c, _, _ in found)
    assert codes == ["K572", "K579"], found
    assert any("unknown role `owner`" in m for _, _, m in found)


def test_a_scenario_defined_in_two_files_is_refused(validate):
    spec = TASKS.replace("  - scenarios.yaml", "  - scenarios.yaml\n  - more.yaml")
    body = scenarios("same:\n  users: {ada: member}\n  then:\n    - {as: ada, list: Task, expect: 200}\n")
    result = validate(spec, **{"scenarios.yaml": body, "more.yaml": body})
    assert [d.code for d in result.diagnostics if d.is_error] == ["K570"]
    assert next(d for d in result.diagnostics if d.code == "K570").span.file.endswith("more.yaml")


def test_included_files_may_hold_scenarios_but_nothing_else_new(validate):
    result = validate(TASKS, **{"scenarios.yaml": "app: {name: other}\n" + scenarios(GOOD_START + "    - {as: ada, list: Task, expect: 200}\n")})
    assert [d.code for d in result.diagnostics if d.is_error] == ["K117"]


def test_the_schema_refuses_unknown_step_keys(validate):
    found, _ = check(validate, GOOD_START + "    - {as: ada, lists: Task, expect: 200}\n")
    assert [c for c, _, _ in found] == ["K201"], found


# --- coverage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("app", sorted(EXAMPLES))
def test_the_example_scenarios_cover_every_rule_both_ways(app):
    result = validate_path(EXAMPLES[app])
    assert result.ok and not result.diagnostics, result.diagnostics
    items = coverage(result.spec)
    assert items and all(not item.missing for item in items), [(i.key, i.missing) for i in items if i.missing]
    keys = {i.key for i in items}
    if app == "tasks":  # every named rule, every transition and action is an item
        assert {"Task.delete rule done-tasks-are-kept", "Task.delete rule creator-deletes",
                "Task.delete rule admin-deletes", "User.update rule users-edit-themselves", "Task.start",
                "Task.finish", "Task.reopen", "Task.assign", "Project.join", "Project.leave"} <= keys
    else:  # and every approval condition: the manager step, finance above 1,000, exclude, distinct
        assert {"ExpenseReport.approve step 1 (manager)",
                "ExpenseReport.approve step 2 (finance, when record.total > 1000)",
                "ExpenseReport.approve exclude", "ExpenseReport.approve distinct", "ExpenseReport.reject roles",
                "ExpenseReport.reject permission", "ExpenseReport.pay", "ExpenseReport.list rule own-reports",
                "ExpenseReport.list rule approvers-see-all"} <= keys


def test_partial_scenarios_get_a_warning_listing_what_is_left(validate):
    found, result = check(validate, """\
        deletes:
          users: {ada: member}
          given:
            - {as: ada, create: Project, with: {name: Apollo}, save: apollo}
            - {as: ada, create: Task, with: {title: T, project: $apollo}, save: t}
          then:
            - {as: ada, delete: $t, expect: 204}
    """)
    assert result.ok  # warnings only
    task = next(m for c, _, m in found if c == "K970" and "rules of Task unexercised" in m)
    assert "Task.delete rule done-tasks-are-kept (denied)" in task and "Task.start (allowed and denied)" in task
    assert "Task.delete rule creator-deletes" not in task  # the member's own delete exercised it
    assert "Task.delete (denied)" in task and "Task.create (denied)" in task


def test_a_spec_without_scenarios_gets_no_coverage_warning(validate):
    result = validate(TASKS.replace("include:\n  - scenarios.yaml", "include: []"))
    assert not [d for d in result.diagnostics if d.code == "K970"]
    assert result.spec.scenarios == ()


# --- IR -------------------------------------------------------------------------------------------


def test_the_ir_resolves_steps_into_requests():
    result = validate_path(EXAMPLES["tasks"])
    ir = build_ir(result.spec, result.source_map, result.root)
    names = [s.name for s in ir.scenarios]
    assert names == sorted(names) and "outsiders_see_no_tasks" in names
    s = next(s for s in ir.scenarios if s.name == "outsiders_see_no_tasks")
    assert [(u.name, u.role) for u in s.users] == [("ada", "member"), ("eve", "member")]
    create = s.steps[1]
    assert (create.method, create.path, create.save) == ("POST", ("/api/tasks",), "launch")
    assert create.body == {"title": "Launch", "project_id": {"$id": "apollo"}, "assignee_id": {"$id": "ada"}}
    assert create.expect.status is None and create.source == "scenarios.yaml:15"
    read = next(st for st in s.steps if st.op == "read" and st.actor == "eve")
    assert read.path == ("/api/tasks/", {"$key": "launch"}) and read.expect.status == 404
    project = next(x for x in ir.scenarios if x.name == "admins_join_and_leave_projects")
    join = next(st for st in project.steps if st.op == "do")
    assert join.path == ("/api/projects/", {"$key": "apollo"}, "/join") and join.lookup == "slug"
    assert '"scenarios": [' in dump_ir(ir)


# --- the generated tests --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for name, spec in EXAMPLES.items():
        out[name] = tmp_path_factory.mktemp(f"scenarios_{name}")
        render_into(spec, out[name])
    return out


def _start(app: Path, database: str | None = None) -> subprocess.Popen:
    """The app's scenario tests alone, in a subprocess, as a user runs them."""
    return subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/test_spec_scenarios.py"], cwd=app, env=_environment(database),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _passed(done) -> int:
    output = done.stdout
    assert done.returncode == 0, output[-6000:]
    summary = output.strip().splitlines()[-1]
    assert not re.search(r"failed|error|skipped", summary), summary
    return int(re.search(r"(\d+) passed", summary).group(1))


@pytest.fixture(scope="module")
def runs(apps):
    """runs(app, backend) -> the finished run of the app's scenario tests; all four start at once."""
    started = {(name, "sqlite"): _start(path) for name, path in apps.items()}
    if _postgres_error() is None:
        started |= {(name, "postgresql"): _start(path, PG_ADMIN_URL) for name, path in apps.items()}
    yield lambda app, backend: finish(started[app, backend])
    for process in started.values():  # runs never awaited (deselected tests)
        if process.poll() is None:
            process.kill()
            process.communicate()


def _count(app: Path) -> int:
    return len(json.loads((app / "tests/spec_scenarios.json").read_text(encoding="utf-8"))["scenarios"])


@pytest.mark.parametrize("app", sorted(EXAMPLES))
def test_the_example_scenarios_pass_on_sqlite(apps, runs, app):
    assert _passed(runs(app, "sqlite")) == _count(apps[app]) >= 8


@pytest.mark.parametrize("app", sorted(EXAMPLES))
def test_the_example_scenarios_pass_on_postgresql(apps, runs, postgres, app):
    assert _passed(runs(app, "postgresql")) == _count(apps[app]) >= 8


def test_a_wrong_expectation_fails_the_generated_test(tmp_path):
    spec = tmp_path / "spec"
    shutil.copytree(EXAMPLES["tasks"], spec)
    (spec / "scenarios.yaml").write_text(scenarios("""\
        wrongly_hopeful:
          users: {ada: member, eve: member}
          given:
            - {as: ada, create: Project, with: {name: Apollo}, save: apollo}
            - {as: ada, create: Task, with: {title: Launch, project: $apollo}, save: launch}
          then:
            - {as: ada, read: $launch, expect: 200}
            - {as: eve, update: $launch, with: {title: Mine}, expect: {status: 200, body: {title: Mine}}}
    """), encoding="utf-8")
    app = tmp_path / "app"
    render_into(spec, app)
    done = finish(_start(app))
    assert done.returncode == 1, done.stdout[-4000:]
    assert "1 failed" in done.stdout.strip().splitlines()[-1]
    assert "scenario 'wrongly_hopeful', step 4 (then[1] as eve: update $launch, scenarios.yaml:9)" in done.stdout, done.stdout
    assert "status: expected 200, got 404" in done.stdout
    assert "response body: {" in done.stdout and '"code":"not_found"' in done.stdout
