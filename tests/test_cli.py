"""The `keel` command: exit codes, output formats, init, start-up cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from generator.cli import main
from tests.conftest import MINIMAL, REPO

EXAMPLES = ["specs/tasks", "specs/expenses"]


def run_keel(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=env)


def test_example_specs_validate_clean():
    for spec in EXAMPLES:
        proc = run_keel("validate", spec)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "ok (0 warnings)" in proc.stdout


def test_json_output_is_the_documented_document(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keel.yaml").write_text(MINIMAL.replace("title: string", "title: {type: strng}"))
    assert main(["validate", "--format", "json", "."]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "keel.diagnostics/1"
    assert doc["tool"]["name"] == "keel" and doc["command"] == "validate"
    assert doc["ok"] is False and doc["summary"] == {"errors": 1, "warnings": 0}
    assert doc["files"] == ["keel.yaml"]
    [d] = doc["diagnostics"]
    assert set(d) == {"code", "severity", "title", "message", "file", "line", "column", "end_line", "end_column",
                      "pointer", "hint", "related"}
    assert (d["code"], d["severity"], d["file"], d["line"], d["column"]) == ("K204", "error", "keel.yaml", 12, 21)
    assert d["pointer"] == "/entities/Note/fields/title/type"


def test_human_output_is_file_line_col_with_source_and_caret(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keel.yaml").write_text(MINIMAL.replace("title: string", "title: {type: strng}"))
    assert main(["validate", "--color", "never", "."]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("keel.yaml:12:21: error[K204] ")
    assert lines[1].strip().startswith("12 |") and "{type: strng}" in lines[1]
    caret = lines[2].index("^")
    assert lines[1][caret:caret + 5] == "strng"
    assert lines[3].strip().startswith("= hint:")


def test_github_output_is_workflow_annotations(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keel.yaml").write_text(MINIMAL.replace("title: string", "title: {type: strng}"))
    assert main(["validate", "--format", "github", "."]) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("::error file=keel.yaml,line=12,col=21,")
    assert "title=K204" in line


def test_missing_spec_is_an_io_error_exit_2(tmp_path):
    proc = run_keel("validate", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "K115" in proc.stdout


def test_usage_error_exit_2():
    proc = run_keel("validate")
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_no_command_prints_help_and_exits_2():
    proc = run_keel()
    assert proc.returncode == 2 and "validate" in proc.stdout


def test_version():
    proc = run_keel("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("keel ")


def test_internal_error_is_exit_3_with_a_request_to_report(monkeypatch, capsys):
    import generator.pipeline

    def boom(path):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(generator.pipeline, "validate_path", boom)
    assert main(["validate", "specs/tasks"]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "bug in Keel" in err and "Traceback" not in err


def test_init_creates_a_spec_that_validates(tmp_path):
    proc = run_keel("init", "shop", "--dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    spec = tmp_path / "shop" / "keel.yaml"
    assert spec.is_file()
    first = spec.read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema_path = (spec.parent / first.split("$schema=")[1]).resolve()
    assert schema_path.is_file()
    proc = run_keel("validate", str(spec.parent))
    assert proc.returncode == 0, proc.stdout


def test_init_refuses_bad_names_and_existing_dirs(tmp_path):
    assert run_keel("init", "Bad-Name", "--dir", str(tmp_path)).returncode == 2
    (tmp_path / "taken").mkdir()
    assert run_keel("init", "taken", "--dir", str(tmp_path)).returncode == 2


def test_validate_does_not_import_heavy_libraries():
    code = ("import sys; from generator.cli import main; main(['validate', 'specs/expenses']); "
            "print(sorted(m for m in ('jinja2', 'black', 'datamodel_code_generator', 'fastapi', 'sqlalchemy') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_spec_files_reference_the_shipped_schema():
    """Main spec files name the spec schema; included files (entities, scenarios) the include schema."""
    for spec_file in sorted((REPO / "specs").rglob("*.yaml")):
        first = spec_file.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        target = (spec_file.parent / first.split("$schema=")[1]).resolve()
        expected = "keel-spec.schema.json" if spec_file.name == "keel.yaml" else "keel-include.schema.json"
        assert target == (REPO / "generator/schema" / expected).resolve(), spec_file


def test_included_files_validate_against_the_include_schema_as_an_editor_would():
    """The include schema reuses the spec schema's definitions through a relative $ref, as
    yaml-language-server resolves it from the file; an included file is not a full spec."""
    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = REPO / "generator/schema"
    main = json.loads((schemas / "keel-spec.schema.json").read_text())
    include = json.loads((schemas / "keel-include.schema.json").read_text())
    registry = Registry().with_resource("keel-spec.schema.json", Resource.from_contents(main))
    validator = Draft202012Validator(include, registry=registry)
    included = [f for f in sorted((REPO / "specs").rglob("*.yaml")) if f.name != "keel.yaml"]
    assert included, "the example specs include files"
    for spec_file in included:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(spec_file.read_text()))]
        assert errors == [], (spec_file, errors)
    assert list(validator.iter_errors({"app": {"name": "x"}}))  # only entities and scenarios belong there
    assert list(validator.iter_errors({"entities": {"Task": {"fields": "nonsense"}}}))


def test_a_50_mb_spec_is_refused_quickly_with_a_diagnostic(tmp_path):
    with open(tmp_path / "keel.yaml", "wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: a 50 MB size without writing 50 MB
    proc = run_keel("validate", "--format", "json", str(tmp_path))
    assert proc.returncode == 1
    [d] = json.loads(proc.stdout)["diagnostics"]
    assert d["code"] == "K105" and d["hint"]


def test_python_tags_run_no_code(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "keel.yaml").write_text(f"keel: !!python/object/apply:os.system ['touch {marker}']\n")
    proc = run_keel("validate", "--format", "json", str(tmp_path))
    assert proc.returncode == 1
    assert [d["code"] for d in json.loads(proc.stdout)["diagnostics"]] == ["K103"]
    assert not marker.exists()
