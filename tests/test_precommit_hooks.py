"""The pre-commit hooks Keel publishes (.pre-commit-hooks.yaml) run real `keel` commands."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import yaml

from generator.cli import build_parser
from tests.conftest import REPO

HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())


def _commands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")  # noqa: SLF001 - argparse has no public way
    return set(sub.choices)


def test_every_hook_is_a_keel_command_that_takes_whole_specs():
    assert {h["id"] for h in HOOKS} == {"keel-validate", "keel-check"}
    for hook in HOOKS:
        program, command = shlex.split(hook["entry"])
        assert program == "keel" and command in _commands()
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        re.compile(hook["files"])
        assert re.search(hook["files"], "specs/expenses/entities/reports.yaml")


def test_the_hooks_pass_on_the_example_specs_and_fail_on_a_broken_one(tmp_path):
    """What pre-commit runs: the entry with the arguments from the user's config."""
    def run(entry: str, *args: str) -> subprocess.CompletedProcess:
        _, command = shlex.split(entry)
        return subprocess.run([sys.executable, "-m", "generator", command, *args], cwd=REPO,
                              capture_output=True, text=True, timeout=300)

    entries = {h["id"]: h["entry"] for h in HOOKS}
    assert run(entries["keel-validate"], "specs/tasks", "specs/expenses").returncode == 0
    assert run(entries["keel-check"], "specs/tasks", "--out", "generated/tasks").returncode == 0
    (tmp_path / "keel.yaml").write_text("keel: 1\napp: {name: broken}\nentities: {Task: {fields: {x: nonsense}}}\n")
    broken = run(entries["keel-validate"], str(tmp_path))
    assert broken.returncode == 1 and "keel.yaml:3" in broken.stdout + broken.stderr
