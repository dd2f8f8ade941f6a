"""`keel explain`: the spec's rules in plain English, from the rules' ASTs (generator/explain*.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.cli import main
from generator.explain import UnknownTarget, explain, select
from generator.explain_phrases import a_noun, by_phrase, parse_rule, participle, record_noun, who_of
from generator.explain_render import render_markdown, render_text
from generator.ir import build_ir
from generator.pipeline import validate_path
from tests.conftest import REPO

TASKS, EXPENSES = REPO / "specs/tasks", REPO / "specs/expenses"


def _ir(path: Path):  # type: ignore[no-untyped-def]
    result = validate_path(path)
    assert result.ok, result.diagnostics
    return build_ir(result.spec, result.source_map, result.root)


@pytest.fixture(scope="module")
def tasks():
    return explain(_ir(TASKS))


@pytest.fixture(scope="module")
def expenses():
    return explain(_ir(EXPENSES))


def topic(explanation, target: str):  # type: ignore[no-untyped-def]
    chosen = select(explanation, target).entities[0].topics
    assert len(chosen) == 1, chosen
    return chosen[0]


# --- sentences of the example specs -----------------------------------------------------------


def test_a_transition_reads_as_a_sentence(tasks):
    start = topic(tasks, "Task.start")
    assert start.kind == "transition"
    assert start.sentences[0] == "A task can be started by its assignee, when it is in state todo."
    assert "It then moves to state in_progress." in start.sentences
    assert [(r.id, r.effect, r.expr) for r in start.rules] == [("Task.start.1", "allow", "user == record.assignee")]
    assert dict(start.facts)["from"] == ["todo"] and dict(start.facts)["to"] == "in_progress"
    reopen = topic(tasks, "Task.reopen")
    assert reopen.sentences[0] == "A task can be reopened by someone with the admin role, when it is in state done."


def test_delete_names_allow_and_deny_rules(tasks):
    delete = topic(tasks, "Task.delete")
    assert delete.sentences[0] == (
        "A task can be deleted by its creator or someone with the admin role, unless its status is done."
    )
    assert [(r.id, r.effect) for r in delete.rules] == [
        ("creator-deletes", "allow"), ("admin-deletes", "allow"), ("done-tasks-are-kept", "deny")]
    assert delete.rules[2].english == "the task's status is done"
    assert delete.rules[2].source == "keel.yaml:" + delete.rules[2].source.split(":")[1]


def test_list_explains_filtering_and_switched_off_operations(tasks):
    listing = topic(tasks, "Task.list")
    assert listing.sentences[0] == ("A task appears in lists for one of its project's members, its project's owner, "
                                    "or someone with the admin role.")
    assert "only ever holds the tasks the caller may see" in listing.sentences[1]
    assert topic(tasks, "User.delete").sentences == ("There is no delete endpoint: the operation is switched off "
                                                     "for users.",)
    assert topic(tasks, "User.update").sentences[0] == (
        "A user can be changed by that user themselves or someone with the admin role.")


def test_actions_queries_and_notifications(tasks):
    assign = topic(tasks, "Task.assign")
    assert assign.sentences[0] == ("A task can be assigned by one of its project's members or someone with the admin "
                                   "role, when its status is not done.")
    assert "It sets its assignee to the given assignee." in assign.sentences
    assert assign.description == "Give the task to a project member."
    leave = topic(tasks, "Project.leave")
    assert leave.sentences[0] == "A project can be left by one of its members other than its owner."
    query = topic(tasks, "Task.my_open_tasks")
    assert query.sentences[0] == ("`GET /api/me/tasks` lists the tasks where the task's assignee is the current user "
                                  "and the task's status is not done, sorted by due date then id.")
    assigned = topic(tasks, "Task.assigned")
    assert assigned.sentences[0] == "When its assignee changes, its assignee is notified."


def test_invariants_and_computed_fields(tasks, expenses):
    inv = topic(tasks, "Task.assignee_is_member")
    assert inv.sentences[0] == ("Every task must satisfy: the task's assignee is empty, the task's assignee is one of "
                                "the task's project's members, or the task's assignee is the task's project's owner.")
    assert "A task can only be assigned to a member or the owner of its project." in inv.sentences[1]
    assert "against the written row" in inv.sentences[2]
    assert topic(expenses, "ExpenseLine.spent_in_the_past").sentences[0] == (
        "Every expense line must satisfy: the expense line's spent on is on or before today.")
    total = topic(expenses, "ExpenseReport.total")
    assert total.sentences[0] == "`total` (decimal, 2 decimal places) is the total amount of its lines."
    assert "Lists can be filtered and sorted on it." in total.sentences
    overdue = topic(tasks, "Task.overdue")
    assert overdue.sentences[0].startswith("`overdue` (boolean) is true when its due date is set")


def test_approvals_with_condition_distinct_people_and_excluded_submitter(expenses):
    approve = topic(expenses, "ExpenseReport.approve")
    text = " ".join(approve.sentences)
    assert approve.sentences[0] == ("An expense report is approved once it has the required approvals, when it is in "
                                    "state submitted.")
    assert ("(1) someone with the manager role, always; (2) someone with the finance role, only when its total is "
            "greater than 1000.") in text
    assert "Every approval must come from a different person." in approve.sentences
    assert "Its submitter can never approve it (403)." in approve.sentences
    assert [(r.id, r.effect, r.expr) for r in approve.rules] == [
        ("ExpenseReport.approve.step2.when", "when", "record.total > 1000"),
        ("ExpenseReport.approve.exclude", "exclude", "record.submitter")]
    facts = dict(approve.facts)
    assert facts["approvals"] == {"steps": [{"role": "manager", "when": None},
                                            {"role": "finance", "when": "record.total > 1000"}],
                                  "distinct": True, "exclude": "record.submitter"}


def test_roles_and_permission_together_guards_input_and_effects(expenses):
    reject = topic(expenses, "ExpenseReport.reject")
    assert reject.sentences[0] == ("An expense report can be rejected by someone with the manager or finance role "
                                   "other than its submitter, when it is in state submitted.")
    assert "It sets its rejection reason to the given reason." in reject.sentences
    assert "The request body gives `reason` (text, required, 1 to 2000 characters)." in reject.sentences
    submit = topic(expenses, "ExpenseReport.submit")
    assert submit.sentences[0] == ("An expense report can be submitted by its submitter, when it is in state draft "
                                   "and the number of its lines is greater than 0.")
    assert "When the guard does not hold it answers 409 `guard_failed`." in submit.sentences
    update = topic(expenses, "ExpenseReport.update")
    assert update.sentences[0] == "An expense report can be changed by its submitter when its status is draft."


def test_field_access_read_only_and_frozen_fields(expenses):
    bank = topic(expenses, "Employee.bank_account")
    assert bank.sentences[0] == ("Only that employee themselves or someone with the finance role can see its bank "
                                 "account; for anyone else the field is absent.")
    assert bank.sentences[1] == ("Only that employee themselves can set its bank account; anyone else who sends it "
                                 "gets 403.")
    assert [r.id for r in bank.rules] == ["Employee.bank_account.read", "Employee.bank_account.write"]
    assert topic(expenses, "ExpenseReport.rejection_reason").sentences == (
        "Read-only: clients cannot send it; the server sets it (set by `reject`).",)
    assert topic(expenses, "ExpenseReport.submitter").sentences[0].startswith("Set by the server to the user who")
    assert topic(expenses, "ExpenseLine.report").sentences == (
        "Can be set when an expense line is created, never changed afterwards.",)
    frozen = topic(expenses, "ExpenseReport.frozen.1")
    assert frozen.sentences[0].startswith("While an expense report is in state submitted, approved, paid, or "
                                          "rejected, its title, currency, and lines cannot be changed (409")
    workflow = topic(expenses, "ExpenseReport.workflow")
    assert "`paid` and `rejected` are final states: no transition leaves them." in workflow.sentences


def test_audit(expenses):
    audit = topic(expenses, "ExpenseReport.audit")
    assert audit.sentences[0].startswith("Every create, change and delete of an expense report is recorded")
    assert "`GET /api/v1/expense-reports/{id}/history`" in audit.sentences[1]
    assert topic(expenses, "Employee.audit").sentences == (
        "Changes to employees are not recorded in the audit trail.",)


# --- phrases ------------------------------------------------------------------------------------


def test_unknown_rule_shapes_are_said_as_they_are_never_guessed():
    whos = who_of(parse_rule("record.author in user.following"), "article")
    assert by_phrase(whos) == "a signed-in user when its author is one of the current user's following"
    whos = who_of(parse_rule("user == record.owner or (user.role == 'admin' and record.open)"), "thing")
    assert by_phrase(whos) == "its owner, or someone with the admin role when its open is true"
    assert by_phrase(who_of(parse_rule("true"), "x")) == "anyone"
    assert by_phrase(who_of(parse_rule("not user == record.owner"), "x")) == "any signed-in user other than its owner"


def test_words():
    assert [participle(n) for n in ("start", "submit", "pay", "approve", "send_back", "stop", "reopen", "copy")] == [
        "started", "submitted", "paid", "approved", "sent back", "stopped", "reopened", "copied"]
    assert record_noun("ExpenseReport") == "expense report" and record_noun("HTTPRequest") == "HTTP request"
    assert [a_noun(n) for n in ("task", "expense line", "user", "hour")] == ["a task", "an expense line", "a user",
                                                                            "an hour"]


def test_public_and_denied_operations_and_deny_by_person(validate):
    result = validate("""\
        keel: 1
        app: {name: demo, title: Demo, version: "1.0.0"}
        auth: {user: Member, identity: email, password: password, roles: [admin, member]}
        entities:
          Member:
            fields:
              email: {type: email, unique: true}
              password: {type: password, min_length: 12}
            permissions: {all: "user != null"}
          Note:
            description: "Has <script>alert(1)</script> | pipes"
            fields:
              title: string
              author: {type: ref, to: Member, auto: current_user}
              secret:
                type: string
                required: false
                access:
                  read:
                    - allow: user == record.author
                    - allow: user.role == 'admin'
                    - deny: record.title == 'x / y'
            permissions:
              list: "true"
              read: "true"
              create: user.role == 'member'
              update: "false"
              delete:
                - allow: user.role in ['admin', 'member']
                - deny: user == record.author
        """)
    assert result.ok, result.diagnostics
    explanation = explain(build_ir(result.spec, result.source_map, result.root))
    assert topic(explanation, "Note.list").sentences[0] == "Anyone can list notes, signed in or not (the rule is `true`)."
    assert topic(explanation, "Note.update").sentences[0] == "Nobody can update a note: no rule allows it (403)."
    assert topic(explanation, "Note.delete").sentences[0] == (
        "A note can be deleted by someone with the admin or member role, never by its author.")
    secret = topic(explanation, "Note.secret")
    assert secret.sentences[0] == ("Only its author or someone with the admin role can see its secret, unless its title "
                                   "is “x / y”; for anyone else the field is absent.")
    assert secret.rules[0].english == ("allow: the current user is the note's author; allow: the current user's role "
                                       "is admin; deny: the note's title is “x / y”")
    markdown = render_markdown(select(explanation, "Note"))
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "Has &lt;script&gt;alert(1)&lt;/script&gt; \\| pipes" in markdown


def test_select_lists_valid_names(tasks):
    with pytest.raises(UnknownTarget) as caught:
        select(tasks, "Task.nope")
    assert "Task.start" in caught.value.valid and "Task.delete" in caught.value.valid
    assert "choose one of: list, read, create, update, delete" in str(caught.value)
    with pytest.raises(UnknownTarget, match=r"did you mean `Task`\?"):
        select(tasks, "task")
    assert select(tasks, "Task").entities[0].name == "Task" and len(select(tasks, "Task").entities) == 1


def test_renderings_are_deterministic_and_complete(expenses):
    again = explain(_ir(EXPENSES))
    assert render_text(expenses) == render_text(again)
    markdown = render_markdown(expenses)
    assert markdown == render_markdown(again)
    for heading in ("## ExpenseReport", "### Who may do what", "### Workflow", "#### approve: submitted → approved",
                    "### Audit trail and notifications", "* **deny** `ExpenseReport.reject.roles`"):
        assert heading in markdown


# --- the command --------------------------------------------------------------------------------


def test_cli_explains_one_topic(capsys):
    assert main(["explain", str(TASKS), "Task.start"]) == 0
    out = capsys.readouterr().out
    assert "A task can be started by its assignee, when it is in state todo." in out
    assert "finish" not in out


def test_cli_json_document(capsys):
    assert main(["explain", str(EXPENSES), "ExpenseReport.approve", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "keel.explain/1" and document["ok"] is True
    assert document["app"] == "expenses" and document["target"] == "ExpenseReport.approve"
    (entity,) = document["entities"]
    (approve,) = entity["topics"]
    assert set(approve) == {"kind", "name", "title", "summary", "description", "sentences", "rules", "facts", "source"}
    assert approve["summary"] == approve["sentences"][0]
    assert approve["facts"]["to"] == "approved"
    assert approve["rules"][0] == {"id": "ExpenseReport.approve.step2.when", "effect": "when",
                                   "expr": "record.total > 1000",
                                   "english": "the expense report's total is greater than 1000",
                                   "source": approve["rules"][0]["source"]}


def test_cli_whole_spec_and_markdown(capsys):
    assert main(["explain", str(TASKS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("User (") and "Project (" in out and "Task (" in out
    assert main(["explain", str(TASKS), "Task", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("# Rules of Task Manager")


def test_cli_unknown_names_are_usage_errors(capsys):
    assert main(["explain", str(TASKS), "Tsk"]) == 2
    err = capsys.readouterr().err
    assert "no entity `Tsk`" in err and "User, Project, Task" in err
    assert main(["explain", str(TASKS), "Task.begin"]) == 2
    assert "choose one of:" in capsys.readouterr().err
    assert main(["explain", str(TASKS), "Task.begin", "--format", "json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False and "Task.start" in document["valid"]


def test_cli_invalid_spec_prints_diagnostics_and_exits_1(tmp_path, capsys):
    (tmp_path / "keel.yaml").write_text("keel: 1\napp: {name: x, title: X, version: '1'}\nentities:\n  Note:\n"
                                        "    fields: {title: strin}\n")
    assert main(["explain", str(tmp_path)]) == 1
    assert "error[" in capsys.readouterr().err
    assert main(["explain", str(tmp_path), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["format"] == "keel.diagnostics/1"
    assert main(["explain", str(tmp_path / "missing")]) == 2
