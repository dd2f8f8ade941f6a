"""`keel plan`: one document that says what a proposed spec change does (validation, diff against
the committed spec, files, migration, scenarios, verdict), in a real git repository."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def keel(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**__import__("os").environ, "PYTHONPATH": str(REPO)})


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=ci@example.test", "-c", "user.name=CI", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A team's repository: specs/tasks committed, and its generated app."""
    root = tmp_path_factory.mktemp("team")
    shutil.copytree(REPO / "specs/tasks", root / "specs/tasks")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "tasks v1")
    done = keel(root, "generate", "specs/tasks")
    assert done.returncode == 0, done.stderr
    return root


def edit(project: Path, old: str, new: str) -> None:
    spec = project / "specs/tasks/keel.yaml"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new, 1))


@pytest.fixture
def spec(project):
    original = (project / "specs/tasks/keel.yaml").read_text()
    yield project
    (project / "specs/tasks/keel.yaml").write_text(original)


def plan(project: Path, *extra: str) -> tuple[int, dict]:
    done = keel(project, "plan", "specs/tasks", "--format", "json", *extra)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_an_unchanged_spec_plans_nothing(spec):
    code, doc = plan(spec)
    assert code == 0 and doc["format"] == "keel.plan/1" and doc["verdict"] == {"acceptable": True, "reasons": []}
    assert doc["validation"]["ok"] and doc["diff"]["changes"] == [] and doc["diff"]["baseline"] == "HEAD:specs/tasks"
    assert doc["files"]["create"] == doc["files"]["update"] == doc["files"]["delete"] == []
    assert doc["migration"] == {"status": "none", "revisions": []}
    assert doc["scenarios"]["affected"] == [] and doc["scenarios"]["total"] >= 1


def test_a_new_field_with_a_default_is_acceptable_and_adds_a_migration(spec):
    edit(spec, "      due_date: date?\n", "      due_date: date?\n      estimate: {type: integer, default: 1, min: 0}\n")
    code, doc = plan(spec)
    assert code == 0, doc["verdict"]
    [change] = doc["diff"]["changes"]
    assert change["rule"] == "field-added" and change["target"] == "Task.estimate" and change["category"] == "safe"
    [revision] = doc["migration"]["revisions"]
    assert doc["migration"]["status"] == "added" and revision["path"].startswith("migrations/versions/0002_")
    assert "add_column" in revision["upgrade"] and "estimate" in revision["upgrade"]
    assert revision["path"] in doc["files"]["create"] and "tasks/models.py" in doc["files"]["update"]
    assert "who_deletes_tasks" in doc["scenarios"]["affected"]
    assert not (spec / "generated/tasks" / revision["path"]).exists()  # a plan writes nothing


def test_a_widened_permission_is_not_acceptable_until_the_spec_allows_it(spec):
    edit(spec, "        - allow: user == record.created_by\n",
         "        - allow: user == record.created_by or user == record.assignee\n")
    code, doc = plan(spec)
    assert code == 1 and not doc["verdict"]["acceptable"]
    [change] = doc["diff"]["changes"]
    assert change["rule"] == "permission-widened" and change["severity"] == "error"
    assert change["new"]["line"] > 0 and change["old"]["line"] > 0
    human = keel(spec, "plan", "specs/tasks")
    assert human.returncode == 1 and "BLOCKING [security] permission-widened" in human.stdout
    assert "verdict: NOT acceptable" in human.stdout
    edit(spec, "entities:\n", "evolution:\n  allow:\n    - {rule: permission-widened, target: Task, "
                              "reason: assignees may now delete their tasks}\n\nentities:\n")
    code, doc = plan(spec)
    assert code == 0 and doc["diff"]["changes"][0]["allowed_by"]


def test_a_removed_field_refuses_its_migration(spec):
    edit(spec, "      description: text?\n      project:", "      project:")
    code, doc = plan(spec)
    assert code == 1
    assert doc["migration"]["status"] == "refused"
    assert [d["code"] for d in doc["migration"]["diagnostics"]] == ["K701"]
    assert any("lose data" in r for r in doc["verdict"]["reasons"])


def test_an_invalid_spec_stops_at_validation(spec):
    edit(spec, "      due_date: date?\n", "      due_date: dat?\n")
    code, doc = plan(spec)
    assert code == 1 and not doc["validation"]["ok"] and "diff" not in doc
    assert doc["validation"]["diagnostics"][0]["line"] > 0


def test_without_a_baseline_the_plan_says_so(spec, tmp_path):
    code, doc = plan(spec, "--against", "none")
    assert code == 0 and doc["diff"]["baseline"] is None
    code, doc = plan(spec, "--against", "no-such-branch")
    assert code == 0 and doc["diff"]["baseline"] is None and "no-such-branch" in doc["diff"]["reason"]
    missing = keel(spec, "plan", "specs/nothing")
    assert missing.returncode == 2
