"""`keel diff`: every rule fires on a minimal spec pair, nothing fires on equivalent specs,
and the command's formats, exit codes, git revisions and allow-lists behave as documented.

Each case copies tests/specs/diff/base, applies text replacements, and runs the real
command (`generator.cli.main`) on the pair; the JSON output is what agents consume.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.cli import main
from generator.diff.catalogue import RULES

BASE = Path(__file__).parent / "specs" / "diff" / "base"


def _edit(tmp_path: Path, *replacements: tuple[str, str], name: str = "new") -> Path:
    target = tmp_path / name
    shutil.copytree(BASE, target)
    spec = target / "keel.yaml"
    text = spec.read_text()
    for old, new in replacements:
        assert old in text, f"the base spec has no {old!r}"
        text = text.replace(old, new, 1)
    spec.write_text(text)
    return target


def _diff(capsys, *args: str) -> tuple[int, dict]:
    code = main(["diff", *args, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def _run(capsys, tmp_path: Path, *replacements: tuple[str, str], extra: tuple[str, ...] = ()) -> tuple[int, dict]:
    new = _edit(tmp_path, *replacements)
    return _diff(capsys, str(BASE), str(new), *extra)


# rule id -> edits that must produce it (and the target it must name)
CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("entity-removed", "Board", [("  Board:\n    fields:\n      name: string\n    permissions:\n      all: user != null\n",
                                  "")]),
    ("entity-renamed", "Plank", [("  Board:\n    fields:", "  Plank:\n    renamed_from: Board\n    fields:")]),
    ("entity-added", "Sprint", [("  Board:\n", "  Sprint:\n    fields: {name: string}\n    permissions: {all: user != null}\n"
                                              "  Board:\n")]),
    ("table-renamed", "Board", [("  Board:\n    fields:", "  Board:\n    table: planks\n    fields:")]),
    ("id-strategy-changed", "Board", [("  Board:\n    fields:", "  Board:\n    id: integer\n    fields:")]),
    ("field-removed", "Task.legacy", [("      legacy: string?\n", "")]),
    ("field-renamed", "Task.headline", [("      title: {type: string,", "      headline: {renamed_from: title, type: string,"),
                                        ("sort: [title, created_at]", "sort: [headline, created_at]"),
                                        ("fields: [title, points]", "fields: [headline, points]")]),
    ("wire-name-changed", "Task.created_at", [("api: {prefix: /api}", "api: {prefix: /api, wire_names: camelCase}")]),
    ("column-renamed", "Task.notes", [("      notes: text?", "      notes: {type: text, required: false, column: remarks}")]),
    ("field-added", "Task.extra", [("      legacy: string?\n", "      legacy: string?\n      extra: string?\n")]),
    ("required-input-added", "Task.estimate", [("      legacy: string?\n", "      legacy: string?\n      estimate: integer\n")]),
    ("input-became-required", "Task.notes", [("      notes: text?", "      notes: text")]),
    ("field-became-required", "Task.notes", [("      notes: text?", "      notes: text")]),
    ("field-became-nullable", "Task.title", [("min_length: 1, max_length: 200}", "min_length: 1, max_length: 200, required: false}")]),
    ("field-no-longer-writable", "Task.legacy", [("      legacy: string?", "      legacy: {type: string, required: false, read_only: true}")]),
    ("field-type-changed", "Task.legacy", [("      legacy: string?", "      legacy: integer?")]),
    ("ref-target-changed", "Task.tag", [("tag: {type: ref, to: Tag,", "tag: {type: ref, to: Board,")]),
    ("max-length-decreased", "Task.title", [("max_length: 200}", "max_length: 100}")]),
    ("max-length-increased", "Task.title", [("max_length: 200}", "max_length: 250}")]),
    ("min-length-increased", "Task.title", [("min_length: 1, max_length: 200", "min_length: 5, max_length: 200")]),
    ("min-length-decreased", "Task.title", [("min_length: 1, max_length: 200", "max_length: 200")]),
    ("max-decreased", "Task.points", [("min: 0, max: 100", "min: 0, max: 80")]),
    ("min-increased", "Task.points", [("min: 0, max: 100", "min: 1, max: 100")]),
    ("range-widened", "Task.points", [("min: 0, max: 100", "min: 0, max: 1000")]),
    ("decimal-scale-changed", "Member.salary", [("        type: decimal\n", "        type: decimal\n        scale: 1\n")]),
    ("pattern-changed", "Task.legacy", [("      legacy: string?", "      legacy: {type: string, required: false, pattern: '^[a-z]+$'}")]),
    ("pattern-removed", "Tag.label", [(", pattern: '^[a-z-]+$'}", "}")]),
    ("enum-value-removed", "Task.priority", [("values: [low, normal, high]", "values: [low, normal]"),
                                             ("record.priority == 'high'", "record.priority == 'normal'")]),
    ("enum-value-removed", "Task.status", [("states: [todo, review, done]", "states: [todo, done]"),
                                           ("from: todo, to: review,", "from: todo, to: done,"),
                                           ("        accept:\n          from: review", "        accept:\n          from: todo"),
                                           ("in: [review, done]", "in: [done]")]),
    ("enum-value-added", "Task.priority", [("values: [low, normal, high]", "values: [low, normal, high, urgent]")]),
    ("default-changed", "Task.priority", [("default: normal}", "default: low}")]),
    ("unique-added", "Task.legacy", [("      legacy: string?", "      legacy: {type: string, required: false, unique: true}")]),
    ("unique-added", "Task.unique(title, owner_id)", [("    filters: [priority, owner]", "    unique: [[title, owner]]\n    filters: [priority, owner]")]),
    ("unique-removed", "Tag.label", [("max_length: 40, unique: true,", "max_length: 40,")]),
    ("index-changed", "Task.index(priority, owner_id)", [("    filters: [priority, owner]", "    indexes: [[priority, owner]]\n    filters: [priority, owner]")]),
    ("on-delete-changed", "Task.tag", [("on_delete: set_null}", "on_delete: cascade}")]),
    ("relation-removed", "Task.tags", [("      tags: {type: many, to: Tag}\n", "")]),
    ("computed-removed", "Task.big", [("    computed:\n      big: {type: boolean, expr: record.points != null and record.points > 10}\n", "")]),
    ("computed-type-changed", "Task.big", [("big: {type: boolean, expr: record.points != null and record.points > 10}",
                                             "big: {type: integer, expr: 'coalesce(record.points, 0)'}")]),
    ("computed-added", "Task.small", [("    computed:\n", "    computed:\n      small: {type: boolean, expr: record.points == 0}\n")]),
    ("invariant-added", "Task.invariants.titled", [("    invariants:\n", "    invariants:\n      titled:\n        check: len(record.title) > 2\n        message: Long titles.\n")]),
    ("invariant-narrowed", "Task.invariants.small_points", [(" or record.priority == 'high'", "")]),
    ("invariant-changed", "Task.invariants.small_points", [("record.priority == 'high'", "record.priority == 'normal'")]),
    ("invariant-relaxed", "Task.invariants.small_points", [("record.priority == 'high'", "record.priority == 'high' or record.notes != null")]),
    ("operation-removed", "Task.delete", [("      delete:\n        - allow: user == record.owner\n        - deny: record.status == 'done'\n", ""),
                                          ("    filters: [priority, owner]", "    operations: [list, read, create, update]\n    filters: [priority, owner]")]),
    ("operation-added", "Member.delete", [("    operations: [list, read, update]", "    operations: [list, read, update, delete]"),
                                          ("      update: user == record or user.role == 'admin'\n",
                                           "      update: user == record or user.role == 'admin'\n      delete: user.role == 'admin'\n")]),
    ("path-changed", "Task.list", [("    filters: [priority, owner]", "    api: {path: /todo-items}\n    filters: [priority, owner]")]),
    ("method-changed", "Task.flag", [("      flag:\n", "      flag:\n        method: PUT\n")]),
    ("operation-id-changed", "Plank.list", [("  Board:\n    fields:", "  Plank:\n    renamed_from: Board\n    table: boards\n    api: {path: /boards}\n    fields:")]),
    ("parameter-removed", "Task.list?owner_id", [("filters: [priority, owner]", "filters: [priority]")]),
    ("parameter-added", "Task.list?points", [("filters: [priority, owner]", "filters: [priority, owner, points]")]),
    ("response-format-changed", "api.wire_names", [("api: {prefix: /api}", "api: {prefix: /api, wire_names: camelCase}")]),
    ("response-format-changed", "Task.api.pagination", [("    filters: [priority, owner]", "    api: {pagination: offset}\n    filters: [priority, owner]")]),
    ("page-size-max-decreased", "api.page_size.max", [("api: {prefix: /api}", "api: {prefix: /api, page_size: {max: 100}}")]),
    ("page-size-default-changed", "api.page_size.default", [("api: {prefix: /api}", "api: {prefix: /api, page_size: {default: 20}}")]),
    ("input-field-removed", "Task.flag.input.why", [("        input:\n          why: {type: string, max_length: 200}\n", ""),
                                                    ("set: {notes: input.why}", "set: {notes: \"'flagged'\"}")]),
    ("required-input-added", "Task.flag.input.because", [("          why: {type: string, max_length: 200}\n",
                                                          "          why: {type: string, max_length: 200}\n          because: string\n")]),
    ("max-length-decreased", "Task.flag.input.why", [("why: {type: string, max_length: 200}", "why: {type: string, max_length: 20}")]),
    ("transition-changed", "Task.accept", [("        accept:\n          from: review", "        accept:\n          from: todo")]),
    ("permission-widened", "Task.permissions.update", [("      update: user == record.owner\n", "      update: user == record.owner or user.role == 'admin'\n")]),
    ("permission-widened", "Task.permissions.delete", [("        - deny: record.status == 'done'\n", "")]),
    ("permission-narrowed", "Task.permissions.list", [("      list: user == record.owner or user.role == 'admin'", "      list: user == record.owner")]),
    ("permission-narrowed", "Task.permissions.delete", [("        - deny: record.status == 'done'\n", "        - deny: record.status == 'done'\n        - deny: record.notes != null\n")]),
    ("permission-changed", "Task.permissions.update", [("      update: user == record.owner\n", "      update: user.role == 'manager'\n")]),
    ("permission-widened", "Task.flag", [("        permission: user.role == 'admin'", "        permission: user.role in ['admin', 'manager']")]),
    ("field-visibility-widened", "Member.salary.read", [("read: user == record or user.role == 'admin'", "read: user != null")]),
    ("field-visibility-narrowed", "Member.salary.read", [("read: user == record or user.role == 'admin'", "read: user == record")]),
    ("field-visibility-changed", "Member.salary.read", [("read: user == record or user.role == 'admin'", "read: user.role == 'manager'")]),
    ("field-write-widened", "Member.salary.write", [("write: user.role == 'admin'", "write: user.role == 'admin' or user == record")]),
    ("field-write-narrowed", "Member.salary.write", [("write: user.role == 'admin'", "write: user.role == 'admin' and user != record")]),
    ("field-write-changed", "Member.salary.write", [("write: user.role == 'admin'", "write: user == record")]),
    ("field-write-widened", "Task.remark", [("remark: {type: text, required: false, read_only: true}", "remark: text?")]),
    ("transition-guard-widened", "Task.submit.guard", [(", guard: record.points != null}", "}")]),
    ("transition-guard-narrowed", "Task.submit.guard", [("guard: record.points != null}", "guard: record.points != null and record.points > 1}")]),
    ("transition-guard-changed", "Task.submit.guard", [("guard: record.points != null}", "guard: record.notes != null}")]),
    ("approval-rule-weakened", "Task.accept.approvals", [("              - role: admin\n                when: record.points > 20\n", "")]),
    ("approval-rule-weakened", "Task.accept.approvals", [("            distinct: true", "            distinct: false")]),
    ("approval-rule-strengthened", "Task.accept.approvals", [("              - role: manager\n", "              - role: manager\n              - role: member\n")]),
    ("approval-rule-strengthened", "Task.accept.approvals", [("when: record.points > 20", "when: record.points > 20 or record.notes != null")]),
    ("approval-rule-changed", "Task.accept.approvals", [("when: record.points > 20", "when: record.notes != null")]),
    ("frozen-rule-weakened", "Task.frozen", [("fields: [title, points]", "fields: [title]")]),
    ("frozen-rule-strengthened", "Task.frozen", [("fields: [title, points]", "fields: [title, points, notes]")]),
    ("signup-enabled", "auth.signup", [("signup: false", "signup: true")]),
    ("default-role-changed", "auth.default_role", [("default_role: member", "default_role: manager")]),
    ("audit-disabled", "Tag.audit", [("  Tag:\n    audit: true\n", "  Tag:\n")]),
    ("audit-enabled", "Board.audit", [("  Board:\n", "  Board:\n    audit: true\n")]),
]


@pytest.mark.parametrize(("rule", "target", "edits"), CASES, ids=[f"{r}:{t}" for r, t, _ in CASES])
def test_rule_fires(capsys, tmp_path, rule, target, edits):
    code, doc = _run(capsys, tmp_path, *edits)
    assert doc["format"] == "keel.diff/1", [(d["code"], d["message"]) for d in doc.get("diagnostics", [])]
    found = [c for c in doc["changes"] if c["rule"] == rule and c["target"] == target]
    assert found, f"{rule} on {target} not reported; got {[(c['rule'], c['target']) for c in doc['changes']]}"
    c = found[0]
    meta = RULES[rule]
    assert c["category"] in ("api-breaking", "data", "security", "safe")
    assert c["old"] is not None or c["new"] is not None
    for loc in (c["old"], c["new"]):
        if loc is not None:
            assert loc["line"] >= 1 and loc["column"] >= 1 and loc["file"].endswith("keel.yaml")
    blocking = c["breaking"] or c["destructive"] or c["review"]
    assert code == (1 if any(x["severity"] == "error" for x in doc["changes"]) else 0)
    if meta.review:
        assert c["review"] and c["severity"] == "error", "a widened security rule is always flagged"
    assert c["severity"] == ("error" if blocking else "warning" if c["category"] != "safe" or c["migration"] else "notice")


def test_every_rule_has_a_case_or_a_unit_test():
    covered = {r for r, _, _ in CASES} | {"response-status-removed"}  # test_response_status_removed
    assert set(RULES) == covered, sorted(set(RULES) - covered)


def test_identical_specs_have_no_changes(capsys):
    code, doc = _diff(capsys, str(BASE), str(BASE))
    assert (code, doc["changes"], doc["ok"]) == (0, [], True)
    for spec in ("specs/tasks", "specs/expenses"):
        root = Path(__file__).parent.parent / spec
        code, doc = _diff(capsys, str(root), str(root))
        assert (code, doc["changes"]) == (0, []), spec


def test_reordering_and_formatting_are_not_changes(capsys, tmp_path):
    """Moved entities and fields, flow vs block style, comments, reordered alternatives and operands."""
    new = _edit(
        tmp_path,
        ("      title: {type: string, min_length: 1, max_length: 200}\n      notes: text?\n",
         "      notes: text?   # moved\n      title:\n        type: string\n        max_length: 200\n        min_length: 1\n"),
        ("      list: user == record.owner or user.role == 'admin'", "      list: \"user.role == 'admin' or record.owner == user\""),
        ("update: user == record or user.role == 'admin'", "update: (user.role == 'admin') or (user == record)"),
        ("guard: record.points != null}", "guard: null != record.points}"),
        ("        permission: user.role == 'admin'", "        permission: user.role in ['admin']"),
    )
    text = (new / "keel.yaml").read_text()
    board = "  Board:\n    fields:\n      name: string\n    permissions:\n      all: user != null\n"
    text = text.replace(board, "").replace("entities:\n", "entities:\n" + board + "\n", 1)
    (new / "keel.yaml").write_text(text)
    code, doc = _diff(capsys, str(BASE), str(new))
    assert doc["changes"] == [] and code == 0


def test_rename_is_not_drop_plus_add(capsys, tmp_path):
    code, doc = _run(capsys, tmp_path, ("      notes: text?", "      remarks: {type: text, required: false, renamed_from: notes}"),
                     ("set: {notes: input.why}", "set: {remarks: input.why}"))
    rules = {c["rule"] for c in doc["changes"]}
    assert "field-renamed" in rules and not rules & {"field-removed", "field-added"}
    renamed = next(c for c in doc["changes"] if c["rule"] == "field-renamed")
    assert renamed["breaking"] and not renamed["destructive"] and renamed["migration"]
    assert renamed["details"] == {"from": "notes", "to": "remarks"}
    code, doc = _run(capsys, tmp_path / "e", ("  Board:\n    fields:", "  Plank:\n    renamed_from: Board\n    fields:"))
    rules = {c["rule"] for c in doc["changes"]}
    assert "entity-renamed" in rules and not rules & {"entity-removed", "entity-added"}
    assert not next(c for c in doc["changes"] if c["rule"] == "entity-renamed")["destructive"]


def test_type_change_destructive_only_when_lossy(capsys, tmp_path):
    _, doc = _run(capsys, tmp_path, ("      legacy: string?", "      legacy: text?"))
    [c] = [c for c in doc["changes"] if c["rule"] == "field-type-changed"]
    assert not c["destructive"] and c["breaking"]
    _, doc = _run(capsys, tmp_path / "b", ("      legacy: string?", "      legacy: integer?"))
    [c] = [c for c in doc["changes"] if c["rule"] == "field-type-changed"]
    assert c["destructive"] and c["details"] == {"from": "string", "to": "integer"}


def test_locations_point_at_both_versions(capsys, tmp_path):
    _, doc = _run(capsys, tmp_path, ("max_length: 200}", "max_length: 100}"), ("  Task:\n", "\n\n  Task:\n"))
    [c] = [c for c in doc["changes"] if c["rule"] == "max-length-decreased"]
    base_line = next(i for i, l in enumerate((BASE / "keel.yaml").read_text().splitlines(), 1) if "title: {type" in l)
    assert (c["old"]["line"], c["old"]["column"]) == (base_line, 7)
    assert (c["new"]["line"], c["new"]["column"]) == (base_line + 2, 7)
    assert c["old"]["pointer"] == "/entities/Task/fields/title"


def test_safe_changes_exit_zero(capsys, tmp_path):
    code, doc = _run(capsys, tmp_path, ("      legacy: string?\n", "      legacy: string?\n      extra: string?\n"))
    assert code == 0 and doc["ok"] and [c["rule"] for c in doc["changes"]] == ["field-added"]


def test_human_output(capsys, tmp_path):
    new = _edit(tmp_path, ("      legacy: string?\n", ""))
    assert main(["diff", str(BASE), str(new), "--color", "never"]) == 1
    out = capsys.readouterr().out
    assert "error[field-removed] Task.legacy:" in out
    assert f"old: {BASE.relative_to(Path.cwd()) if BASE.is_relative_to(Path.cwd()) else BASE}/keel.yaml:" in out
    assert "1 change: 1 breaking, 1 destructive, 0 to review; 1 not allowed" in out


def test_github_output(capsys, tmp_path, monkeypatch):
    new = _edit(tmp_path, ("      legacy: string?\n", ""), ("read: user == record or user.role == 'admin'", "read: user != null"))
    monkeypatch.chdir(tmp_path)
    assert main(["diff", str(BASE), "new", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    removed = next(l for l in lines if "field-removed" in l)
    assert removed.startswith("::error file=new/keel.yaml,line=") and ",col=3,title=keel diff field-removed::" in removed
    assert any(l.startswith("::error ") and "field-visibility-widened" in l for l in lines)
    assert all(l.startswith(("::error ", "::warning ", "::notice ")) for l in lines)


def test_flags_allow(capsys, tmp_path):
    edits = (("      legacy: string?\n", ""),)
    code, _ = _run(capsys, tmp_path, *edits, extra=("--allow-breaking",))
    assert code == 1  # also destructive
    code, doc = _run(capsys, tmp_path / "b", *edits, extra=("--allow-breaking", "--allow-destructive"))
    assert code == 0 and doc["summary"]["allowed"] == 1
    assert doc["changes"][0]["allowed_by"] == "--allow-breaking --allow-destructive"
    code, _ = _run(capsys, tmp_path / "c", *edits, extra=("--allow", "field-removed"))
    assert code == 0
    # a widened rule is never accepted by the blanket flags, only by its id
    widened = (("read: user == record or user.role == 'admin'", "read: user != null"),)
    code, _ = _run(capsys, tmp_path / "d", *widened, extra=("--allow-breaking", "--allow-destructive"))
    assert code == 1
    code, _ = _run(capsys, tmp_path / "e", *widened, extra=("--allow", "field-visibility-widened"))
    assert code == 0


def test_unknown_allow_rule_is_usage_error(capsys):
    assert main(["diff", str(BASE), str(BASE), "--allow", "field-removd"]) == 2
    assert "did you mean field-removed" in capsys.readouterr().err


def test_allow_list_in_spec(capsys, tmp_path):
    allow = ("keel: 1\n", "keel: 1\nevolution:\n  allow:\n    - {rule: field-removed, target: Task.legacy, reason: unused since 2.0}\n")
    code, doc = _run(capsys, tmp_path, ("      legacy: string?\n", ""), allow)
    assert code == 0
    [c] = doc["changes"]
    assert c["allowed_by"] == "evolution.allow[0]: unused since 2.0" and c["severity"] == "warning"
    # the entry covers only its target
    code, doc = _run(capsys, tmp_path / "b", ("      legacy: string?\n", ""), ("      name: {type: string, max_length: 120}\n", ""), allow)
    assert code == 1 and [c["target"] for c in doc["changes"] if c["severity"] == "error"] == ["Member.name"]
    # a prefix target covers what is inside it
    code, _ = _run(capsys, tmp_path / "c", ("      legacy: string?\n", ""), ("      remark: {type: text, required: false, read_only: true}\n", ""),
                   ("keel: 1\n", "keel: 1\nevolution: {allow: [{rule: field-removed, target: Task, reason: cleanup}]}\n"))
    assert code == 0


def test_allow_list_unknown_rule_is_a_diagnostic(capsys, tmp_path):
    spec = _edit(tmp_path, ("keel: 1\n", "keel: 1\nevolution:\n  allow:\n    - {rule: field-removd, reason: x}\n"))
    assert main(["validate", str(spec), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    [d] = doc["diagnostics"]
    assert d["code"] == "K801" and d["line"] == 6 and "field-removed" in d["hint"]


def test_invalid_spec_reports_diagnostics(capsys, tmp_path):
    bad = _edit(tmp_path, ("filters: [priority, owner]", "filters: [priority, ownr]"))
    assert main(["diff", str(BASE), str(bad)]) == 1
    captured = capsys.readouterr()
    assert "error[K311]" in captured.err and "no diff" in captured.err and captured.out == ""
    assert main(["diff", str(BASE), str(bad), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"].startswith("keel.diagnostics/") and doc["diagnostics"][0]["code"] == "K311"


def test_missing_path_is_usage_error(capsys, tmp_path):
    assert main(["diff", str(BASE), str(tmp_path / "nowhere")]) == 2
    assert main(["diff", str(BASE)]) == 2
    assert main(["diff", "--against", "HEAD", str(BASE), str(BASE)]) == 2


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.test", "-c", "user.name=t", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copytree(BASE, repo / "specs" / "app")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    return repo


def test_against_git_revision(capsys, repo, monkeypatch):
    monkeypatch.chdir(repo)
    spec = repo / "specs" / "app" / "keel.yaml"
    spec.write_text(spec.read_text().replace("      legacy: string?\n", ""))
    code, doc = _diff(capsys, "--against", "HEAD", "specs/app")
    assert code == 1
    [c] = doc["changes"]
    assert c["rule"] == "field-removed"
    assert c["old"]["file"] == "HEAD:specs/app/keel.yaml" and c["new"]["file"] == "specs/app/keel.yaml"
    assert doc["old"]["spec"] == "HEAD:specs/app"
    # REV:PATH as an operand, the working tree untouched
    code, doc = _diff(capsys, "HEAD:specs/app", "specs/app")
    assert code == 1 and [c["rule"] for c in doc["changes"]] == ["field-removed"]
    assert "legacy" not in spec.read_text()
    code, doc = _diff(capsys, "--against", "HEAD", "specs/app", "--allow", "field-removed")
    assert code == 0


def test_against_missing_revision_is_usage_error(capsys, repo, monkeypatch):
    monkeypatch.chdir(repo)
    assert main(["diff", "--against", "no-such-branch", "specs/app"]) == 2
    assert "unknown git revision 'no-such-branch'" in capsys.readouterr().err
    assert main(["diff", "--against=--output=x", "specs/app"]) == 2


def test_against_revision_with_invalid_spec_reports_its_diagnostics(capsys, repo, monkeypatch):
    monkeypatch.chdir(repo)
    spec = repo / "specs" / "app" / "keel.yaml"
    spec.write_text(spec.read_text().replace("filters: [priority, owner]", "filters: [priority, ownr]"))
    _git(repo, "commit", "-qam", "broken")
    spec.write_text((BASE / "keel.yaml").read_text())
    assert main(["diff", "--against", "HEAD", "specs/app"]) == 1
    err = capsys.readouterr().err
    assert "HEAD:specs/app/keel.yaml:" in err and "K311" in err


def test_response_status_removed():
    from generator.diff.api import _operation_doc
    from generator.ir.nodes import EndpointIR

    ep = EndpointIR("DELETE", "/api/tasks/{id}", "delete", "delete", "delete_task")
    before = {"paths": {ep.path: {"delete": {"responses": {"204": {}, "404": {}}}}}}
    after = {"paths": {ep.path: {"delete": {"responses": {"200": {}, "404": {}}}}}}
    [c] = _operation_doc("Task.delete", ep, ep, (before, after), (None, None))
    assert c.rule == "response-status-removed" and c.breaking and "204" in c.message


def test_removed_entity_is_one_change_not_one_per_endpoint(capsys, tmp_path):
    _, doc = _run(capsys, tmp_path, ("  Board:\n    fields:\n      name: string\n    permissions:\n      all: user != null\n", ""))
    assert [c["rule"] for c in doc["changes"]] == ["entity-removed"]
    assert doc["changes"][0]["destructive"]


def test_docs_list_every_rule():
    text = (Path(__file__).parent.parent / "docs" / "diff.md").read_text()
    missing = [r for r in RULES if f"| `{r}` |" not in text]
    assert not missing, f"docs/diff.md does not list {missing}"


def test_rename_carries_rules_and_constraints(capsys, tmp_path):
    """Rules, frozen fields and unique groups that name a renamed field are not reported as changed."""
    _, doc = _run(capsys, tmp_path, ("      points: {type: integer,", "      score: {renamed_from: points, type: integer,"),
                  ("record.points == null or record.points <= 50", "record.score == null or record.score <= 50"),
                  ("record.points != null and record.points > 10", "record.score != null and record.score > 10"),
                  ("guard: record.points != null}", "guard: record.score != null}"),
                  ("when: record.points > 20", "when: record.score > 20"),
                  ("fields: [title, points]", "fields: [title, score]"))
    assert [c["rule"] for c in doc["changes"]] == ["field-renamed"], doc["changes"]
