"""The render cache: an unchanged spec regenerates without loading, rendering or formatting anything,
and any change that could change the output takes the normal path."""

from __future__ import annotations

import shutil

import pytest

import generator.generate
from generator.cli import main
from tests.conftest import MINIMAL, REPO


@pytest.fixture
def spec(tmp_path):
    directory = tmp_path / "spec"
    shutil.copytree(REPO / "specs/expenses", directory)
    return directory


def _no_rendering(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("rendered although nothing changed")

    monkeypatch.setattr(generator.generate, "render_files", refuse)


def test_an_unchanged_spec_is_not_rendered_again(spec, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    _no_rendering(monkeypatch)
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    assert f"0 created, 0 updated, 0 deleted, {len(before) - 1} unchanged" in capsys.readouterr().out
    assert main(["check", str(spec), "--out", str(out)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("change", ["edit the spec", "add a spec file", "delete an output", "edit an output",
                                    "other output directory"])
def test_anything_that_could_change_the_output_takes_the_normal_path(spec, tmp_path, monkeypatch, capsys, change):
    out = tmp_path / "out"
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    capsys.readouterr()
    if change == "edit the spec":
        main_file = spec / "keel.yaml"
        main_file.write_text(main_file.read_text().replace("version: \"1.0.0\"", "version: \"1.0.1\""))
    elif change == "add a spec file":  # the spec includes entities/*.yaml: a new file there is part of it
        (spec / "entities" / "extra.yaml").write_text("entities:\n  Extra:\n    fields:\n      name: string\n")
    elif change == "delete an output":
        (out / "expenses/models.py").unlink()
    elif change == "edit an output":
        (out / "expenses/models.py").write_text("# edited by hand\n")
    else:
        out = tmp_path / "elsewhere"
    _no_rendering(monkeypatch)
    for command in ("generate", "check"):
        assert main([command, str(spec), "--out", str(out)]) == 3  # the stand-in renderer refused
        assert "rendered although nothing changed" in capsys.readouterr().err


def test_a_spec_with_warnings_is_never_cached_so_its_warnings_show_every_time(tmp_path, capsys):
    spec = tmp_path / "spec"
    spec.mkdir()
    # An entity with operations but no permissions: warned about (K951), still generated.
    (spec / "keel.yaml").write_text(MINIMAL.replace('    permissions:\n      all: "true"\n', ""), encoding="utf-8")
    out = tmp_path / "out"
    for _ in range(2):
        assert main(["generate", str(spec), "--out", str(out)]) == 0
        warned = capsys.readouterr().err
        assert "warning" in warned, warned


def test_no_cache_means_no_shortcut(spec, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    assert main(["generate", str(spec), "--out", str(out)]) == 0
    monkeypatch.setenv("KEEL_NO_CACHE", "1")
    _no_rendering(monkeypatch)
    assert main(["generate", str(spec), "--out", str(out)]) == 3
    assert "rendered although nothing changed" in capsys.readouterr().err
