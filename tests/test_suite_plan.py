"""The generated test suite's plan: sample values, the rule simulation, who creates what, expected answers.

These decide what every generated test asserts, so each is checked here on its own, against the
example specs and small specs written for the purpose.
"""

from __future__ import annotations

import decimal
import re
from pathlib import Path

import pytest

from generator.ir import build_ir
from generator.ir.nodes import ColumnIR
from generator.pipeline import validate_path
from generator.targets.samples import NoSample, check, invalid_samples, sample, slugify, string_matching
from generator.targets.scenarios import (
    Outcome, Planner, Rec, Undetermined, World, evaluate, expected_change, expected_create, expected_read,
    personas_of,
)
from generator.targets.tests import build_suite
from tests.conftest import REPO


def _ir(spec: Path):
    result = validate_path(spec)
    assert result.ok, result.diagnostics
    return build_ir(result.spec, result.source_map, result.root)


@pytest.fixture(scope="module")
def tasks():
    return _ir(REPO / "specs/tasks")


@pytest.fixture(scope="module")
def expenses():
    return _ir(REPO / "specs/expenses")


@pytest.fixture(scope="module")
def catalog():
    return _ir(REPO / "tests/specs/catalog")


def column(ir, entity: str, name: str) -> ColumnIR:
    return next(c for e in ir.entities if e.name == entity for c in e.columns if c.name == name)


def entity(ir, name: str):
    return next(e for e in ir.entities if e.name == name)


# --- samples ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [
    r"^[A-Z]{3}-[0-9]{4}$", r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$", r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    r"^(foo|bar)\d+$", r"^\w{3,5}@x$", r"^[^@\s]+@[^@\s]+\.[^@\s]+$", r"^v[0-9]+\.[0-9]+$",
])
def test_strings_made_for_a_pattern_match_it_and_differ(pattern):
    made = [string_matching(pattern, n) for n in range(60)]
    assert all(re.fullmatch(pattern, text) for text in made), made
    assert len(set(made)) == 60


def test_strings_for_a_pattern_respect_the_length_bounds():
    text = string_matching(r"^[a-z]+$", 3, min_length=5, max_length=8)
    assert 5 <= len(text) <= 8 and text.isalpha()
    with pytest.raises(NoSample):
        string_matching(r"^[a-z]{10}$", 0, max_length=5)


def test_patterns_the_generator_cannot_sample_are_reported():
    with pytest.raises(NoSample):
        string_matching(r"^(?=.*\d)[a-z0-9]{8}$", 0)  # a look-ahead
    with pytest.raises(NoSample):
        string_matching(r"^(a)\1$", 0)  # a back-reference


def test_samples_of_every_example_column_are_valid_and_distinct(tasks, expenses, catalog):
    for ir in (tasks, expenses, catalog):
        for e in ir.entities:
            for c in e.columns:
                if not c.on_create or c.foreign_key is not None:
                    continue
                made = [sample(c, n) for n in range(60)]
                assert all(check(c, s.wire) is None for s in made), (e.name, c.name)
                if c.spec_type not in ("boolean", "enum"):
                    assert len({repr(s.wire) for s in made}) == 60, (e.name, c.name)


def test_decimal_samples_have_the_column_digits_and_bounds(expenses, catalog):
    amount = column(expenses, "ExpenseLine", "amount")  # precision 12, scale 2, 0.01 .. 100000
    for n in range(200):
        value = decimal.Decimal(sample(amount, n).wire)
        assert decimal.Decimal("0.01") <= value <= 100000 and value == value.quantize(decimal.Decimal("0.01"))
    price = column(catalog, "Product", "price")
    assert sample(price, 0).wire == "1.50" and sample(price, 0).python == decimal.Decimal("1.50")


def test_invalid_samples_are_refused_by_the_column(expenses, catalog):
    sku = column(catalog, "Product", "sku")
    bad = dict(invalid_samples(sku))
    assert bad["not matching the pattern"] == "!" and bad["a number"] == 12345
    amount = column(expenses, "ExpenseLine", "amount")
    wrong = dict(invalid_samples(amount))
    assert wrong["below the minimum"] == "0.00" and wrong["above the maximum"] == "100000.01"
    assert wrong["too many decimal places"] == "1.111"
    for c in (sku, amount, column(catalog, "Product", "stock"), column(catalog, "Product", "category")):
        for why, value in invalid_samples(c):
            assert why == "null" or check(c, value) is not None, (c.name, why)
    stock = dict(invalid_samples(column(catalog, "Product", "stock")))
    assert stock["below the minimum"] == -1 and stock["a string"] == "5"


def test_slugify_matches_the_app():
    assert slugify("Hello, World!") == "hello-world" and slugify("Ünïcode") == "unicode" and slugify("!!") == "item"


# --- the rule simulation -------------------------------------------------------------------------------


def small_world(ir) -> tuple[World, Rec, Rec, Rec, Rec]:
    world = World(ir)
    ada = Rec("ada", "User", {"role": "member"})
    bob = Rec("bob", "User", {"role": "member"})
    root = Rec("root", "User", {"role": "admin"})
    project = Rec("p", "Project", {"owner_id": "ada", "name": "P"})
    task = Rec("t", "Task", {"project_id": "p", "assignee_id": None, "created_by_id": "ada", "status": "todo"})
    world.records += [ada, bob, root, project, task]
    return world, ada, bob, root, task


def test_rules_are_evaluated_over_the_world(tasks):
    world, ada, bob, root, task = small_world(tasks)
    rule = "user in record.project.members or user == record.project.owner or user.role == 'admin'"
    assert evaluate(world, rule, task, ada) is True  # the project's owner
    assert evaluate(world, rule, task, bob) is False
    assert evaluate(world, rule, task, root) is True
    assert evaluate(world, rule, task, None) is False  # anonymous: user.role is null
    assert evaluate(world, "record.assignee == user", task, None) is True  # null == null
    assert evaluate(world, "record.assignee != null", task, ada) is False
    assert evaluate(world, "count(record.project.tasks) == 1", task, ada) is True


def test_what_the_world_cannot_know_is_undetermined_unless_the_other_side_decides(tasks):
    world, ada, bob, _, task = small_world(tasks)
    with pytest.raises(Undetermined):
        evaluate(world, "record.overdue", task, ada)  # a computed field
    with pytest.raises(Undetermined):
        evaluate(world, "record.due_date < today()", task, ada)  # the clock
    with pytest.raises(Undetermined):
        evaluate(world, "record.created_at != null", task, ada)  # a value the server makes
    assert evaluate(world, "user == record.created_by or record.overdue", task, ada) is True
    assert evaluate(world, "user == record.created_by and record.overdue", task, bob) is False


def test_expected_answers_follow_the_handlers_order(tasks):
    world, ada, bob, root, task = small_world(tasks)
    e = entity(tasks, "Task")
    assert expected_read(world, e, task, ada) == Outcome(200)
    assert expected_read(world, e, task, bob) == Outcome(404, "not_found")
    # bob cannot see the task, so a change is 404 before any update rule is looked at
    assert expected_change(world, e, "update", task, bob) == Outcome(404, "not_found")
    assert expected_change(world, e, "delete", task, root) == Outcome(204)
    task.values["status"] = "done"  # the deny rule wins over the admin's allow rule, and names itself
    assert expected_change(world, e, "delete", task, root) == Outcome(403, "forbidden", "done-tasks-are-kept")
    new = Rec("new", "Task", {"project_id": "p", "created_by_id": "bob", "assignee_id": None, "status": "todo"})
    assert expected_create(world, e, new, bob) == Outcome(403, "forbidden", "Task.create")
    assert expected_create(world, e, new, None) == Outcome(401, "authentication_required")


def test_each_record_is_made_by_a_user_the_rules_allow(tasks, expenses):
    assert [p.handle for p in personas_of(expenses)] == ["employee_1", "employee_2", "manager_1", "finance_1",
                                                          "admin_1"]
    planner = Planner(expenses)
    planner.add_personas()
    line = planner.plan("ExpenseLine", "employee_1")
    report = planner.world.get(line.values["report_id"])
    assert (report.actor, line.actor) == ("employee_1", "employee_1")  # the line's rule needs the report's submitter
    assert report.values["status"] == "draft" and report.values["submitter_id"] == "employee_1"
    employee = planner.plan("Employee", "employee_1")
    assert employee.actor == "admin_1"  # only an admin may create employees
    assert [s.via for s in planner.steps[-3:]] == ["api", "api", "api"]
    planner = Planner(tasks)
    planner.add_personas()
    project = planner.plan("Project", "member_1")
    assert project.values["slug"] == "name-00" and planner.steps[-1].body == {"name": "Name 00",
                                                                            "description": "Description 00"}


SPEC_WITH_CLOCK = """\
keel: 1
app: {name: clock, title: Clock, version: "1.0.0", description: Rules that read the clock.}
auth: {user: User, identity: email, password: password, roles: [member]}
entities:
  User:
    operations: [read]
    permissions: {read: user != null}
    fields:
      email: {type: email, unique: true}
      password: {type: password}
  Note:
    permissions:
      all: user != null
      delete: record.due > today() - days(1000)
      update: user == record.author or record.sealed
    fields:
      text: string
      due: date
      author: {type: ref, to: User, auto: current_user}
    computed:
      sealed: {type: boolean, expr: record.due < today()}
  Secret:
    operations: [read]
    permissions: {read: "true"}
    fields:
      code: {type: string, pattern: '^(?=.*\\d)[a-z0-9]{8}$'}
"""


def test_cases_the_simulation_cannot_decide_are_not_generated(validate):
    result = validate(SPEC_WITH_CLOCK)
    assert result.ok, result.diagnostics
    suite = build_suite(build_ir(result.spec, result.source_map, result.root))
    note = next(e for e in suite["entities"] if e.name == "Note")
    refusals = {(r["persona"], r["op"]): r["status"] for r in note.cases["refusals"]}
    assert not any(op == "delete" and who for who, op in refusals)  # the delete rule depends on the day
    assert ("member_2", "update") not in refusals  # refused unless sealed, a computed field
    # Still decided: anonymous clients cannot see notes (404 before any rule), nor create one (401).
    assert refusals[(None, "delete")] == 404 and refusals[(None, "create")] == 401
    assert note.cases["changes"]["delete"] is None
    assert note.cases["changes"]["update"]["by"] == ["member_1"]  # the author: decided whatever `sealed` is
    secret = next(e for e in suite["entities"] if e.name == "Secret")
    assert secret.world is None and secret.cases["changes"] is None  # no sample matches the look-ahead


def test_the_example_suites_cover_every_entity(tasks, expenses, catalog):
    for ir in (tasks, expenses, catalog):
        suite = build_suite(ir)
        for e in suite["entities"]:
            assert e.world is not None and e.cases["list"] is not None, e.name
            assert e.cases["changes"] is not None, e.name
    employee = next(e for e in build_suite(expenses)["entities"] if e.name == "Employee")
    refusals = {(r["persona"], r["op"]): r for r in employee.cases["refusals"]}
    # Employees may not change another employee (only themselves) nor create one; once per distinct answer.
    assert refusals[("employee_1", "update")]["rule"] == "Employee.update"
    assert refusals[("employee_1", "create")]["rule"] == "Employee.create"
    assert ("employee_2", "update") not in refusals and (None, "update") in refusals
    product = next(e for e in build_suite(catalog)["entities"] if e.name == "Product")
    assert {(r["op"], r["status"]) for r in product.cases["refusals"]} == {("read", 200), ("delete", 403)}


def test_a_rule_on_the_clock_is_decided_only_when_the_day_cannot_change_it(tasks):
    world, ada, _, _, task = small_world(tasks)
    task.values["due_date"] = __import__("datetime").date(2024, 1, 10)
    assert evaluate(world, "record.due_date < today()", task, ada) is True  # a 2024 date stays in the past
    with pytest.raises(Undetermined):
        evaluate(world, "record.due_date > today() - days(1000)", task, ada)  # true now, false in 2100


def test_field_access_and_invariants_shape_what_is_sent_and_who_may_send_it(expenses):
    planner = Planner(expenses)
    planner.add_personas()
    employee = planner.plan("Employee", "employee_1")
    # bank_account may only be written by the employee themselves: an admin creating one leaves it out
    assert employee.actor == "admin_1" and "bank_account" not in planner.steps[-1].body
    e = entity(expenses, "Employee")
    admin = planner.world.get("admin_1")
    assert expected_change(planner.world, e, "update", employee, admin, ("bank_account",)) == Outcome(
        403, "forbidden", "Employee.bank_account.write")
    assert expected_change(planner.world, e, "update", employee, admin, ("full_name",)) == Outcome(200)
    line = planner.plan("ExpenseLine", "employee_1")
    assert line.values["spent_on"].year == 2024  # the spent_in_the_past invariant holds on any later day


def test_the_suite_code_does_not_grow_with_the_spec(tmp_path):
    """Cases are data (tests/cases.json): more entities add data, never more Python for black to format."""
    from generator.targets import JsonFile, header
    from generator.targets.tests import suite_files
    from tests.test_generate_cli import synthetic_spec

    def python_files(n: int) -> set[str]:
        (tmp_path / str(n)).mkdir()
        (tmp_path / str(n) / "keel.yaml").write_text(synthetic_spec(n), encoding="utf-8")
        result = validate_path(tmp_path / str(n))
        ir = build_ir(result.spec, result.source_map, result.root)
        planned = suite_files(ir, header(ir))
        assert {f.path for f in planned if isinstance(f, JsonFile)} == {"tests/cases.json", "tests/scenarios.json"}
        return {f.path for f in planned if not isinstance(f, JsonFile)}

    assert python_files(3) == python_files(30)
