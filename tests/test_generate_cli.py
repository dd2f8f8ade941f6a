"""`keel generate` and `keel check`: golden output, determinism, safety of the output directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from generator.cli import main
from tests.conftest import MINIMAL, REPO
from tests.generated_app import import_package_module

EXAMPLES = ["tasks", "expenses"]


def keel(*args: str, cwd: Path = REPO, seed: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    if seed is not None:
        env["PYTHONHASHSEED"] = seed
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


@pytest.mark.parametrize("app", EXAMPLES)
def test_committed_generated_code_matches_the_spec(app):
    """The golden test: generated/ is exactly what the spec generates (what CI's `keel check` enforces)."""
    proc = keel("check", f"specs/{app}", "--out", f"generated/{app}")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_output_is_byte_identical_across_hash_seeds_and_directories(tmp_path):
    outputs = []
    for seed, where in (("0", tmp_path / "a"), ("4242", tmp_path / "nested" / "b")):
        proc = keel("generate", str(REPO / "specs/expenses"), "--out", str(where), cwd=tmp_path, seed=seed)
        assert proc.returncode == 0, proc.stderr
        outputs.append({p.relative_to(where).as_posix(): p.read_bytes() for p in where.rglob("*") if p.is_file()
                        and p.name != ".keel-manifest.json"})
    assert outputs[0] == outputs[1] and len(outputs[0]) > 5


def test_second_generate_changes_nothing_and_check_passes(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["generate", str(REPO / "specs/tasks"), "--out", str(out)]) == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert main(["generate", str(REPO / "specs/tasks"), "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before
    assert "0 created, 0 updated, 0 deleted" in capsys.readouterr().out
    assert main(["check", str(REPO / "specs/tasks"), "--out", str(out)]) == 0


def test_hand_edits_are_stale_in_check_and_never_overwritten_without_force(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["generate", str(REPO / "specs/tasks"), "--out", str(out)]) == 0
    models = out / "tasks/models.py"
    models.write_text(models.read_text() + "# my precious edit\n")
    capsys.readouterr()
    assert main(["check", str(REPO / "specs/tasks"), "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert "stale: " in report and "tasks/models.py" in report and "my precious edit" in report
    assert main(["generate", str(REPO / "specs/tasks"), "--out", str(out)]) == 1
    assert "my precious edit" in models.read_text()
    assert main(["generate", str(REPO / "specs/tasks"), "--out", str(out), "--force"]) == 0
    assert "my precious edit" not in models.read_text()


def test_a_file_keel_did_not_generate_is_never_overwritten(tmp_path):
    out = tmp_path / "out"
    (out / "tasks").mkdir(parents=True)
    (out / "tasks/models.py").write_text("# mine\n")
    assert main(["generate", str(REPO / "specs/tasks"), "--out", str(out)]) == 1
    assert (out / "tasks/models.py").read_text() == "# mine\n"


def test_missing_and_extra_files_fail_the_check(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["generate", str(REPO / "specs/tasks"), "--out", str(out)]) == 0
    (out / "schemas/Task.read.json").unlink()
    capsys.readouterr()
    assert main(["check", str(REPO / "specs/tasks"), "--out", str(out), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["missing"] == ["schemas/Task.read.json"] and doc["ok"] is False


def test_an_invalid_spec_generates_nothing(tmp_path):
    (tmp_path / "keel.yaml").write_text(MINIMAL.replace("title: string", "title: strng"))
    out = tmp_path / "out"
    assert main(["generate", str(tmp_path), "--out", str(out)]) == 1
    assert not out.exists()


def test_emit_ir_prints_the_ir(capsys):
    assert main(["generate", "specs/tasks", "--emit-ir"]) == 0
    ir = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in ir["entities"]] == ["User", "Project", "Task"]


def synthetic_spec(n: int) -> str:
    """n entities, each with typical fields and a reference to the one before (a realistic wide schema)."""
    lines = ["keel: 1", "app: {name: synthetic}", "entities:"]
    for i in range(n):
        lines += [
            f"  Thing{i}:",
            "    permissions: {all: true}",
            "    filters: [name, status]",
            "    sort: [name, amount]",
            "    fields:",
            "      name: {type: string, max_length: 80}",
            "      notes: text?",
            "      amount: {type: decimal, precision: 12, scale: 2, min: 0}",
            "      status: {type: enum, values: [new, active, closed], default: new}",
            "      happened_on: date?",
        ]
        if i:
            lines.append(f"      previous: {{type: ref, to: Thing{i - 1}, required: false, on_delete: set_null}}")
    return "\n".join(lines) + "\n"


def test_a_200_entity_spec_generates_compiles_imports_and_creates_its_schema(tmp_path):
    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "keel.yaml").write_text(synthetic_spec(200))
    out = tmp_path / "out"
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    models = import_package_module(out, "synthetic.models")
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    models.Base.metadata.create_all(engine)
    tables = set(inspect(engine).get_table_names())
    assert len(tables - {"idempotency_keys"}) == 200  # idempotency_keys: creates honour Idempotency-Key
    engine.dispose()
