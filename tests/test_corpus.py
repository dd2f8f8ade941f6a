"""The broken-spec corpus: each case gives exactly the diagnostics it expects, and never a traceback.

A case is a directory ``tests/corpus/<case>/`` with ``keel.yaml`` (and any included
files) and ``expected.txt``: one ``CODE file:line:col`` line per diagnostic, file
relative to the case directory. The whole set must match: a missing diagnostic
and an unexpected extra one both fail. Tests assert codes and positions, never wording.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.cli import main
from generator.pipeline import validate_path

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p for p in CORPUS.iterdir() if (p / "expected.txt").is_file())


def expected_lines(case: Path) -> set[str]:
    lines = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def actual_lines(case: Path) -> set[str]:
    result = validate_path(case)
    out = set()
    for d in result.diagnostics:
        if d.span is None:
            out.add(f"{d.code} -")
            continue
        file = Path(d.span.file).resolve().relative_to(case.resolve()).as_posix()
        out.add(f"{d.code} {file}:{d.span.line}:{d.span.column}")
    return out


def test_corpus_is_big_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_gives_exactly_the_expected_diagnostics(case: Path):
    assert actual_lines(case) == expected_lines(case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_through_the_cli_is_clean_json(case: Path, capsys):
    code = main(["validate", "--format", "json", str(case)])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert err == ""
    assert "Traceback" not in out
    has_errors = any(line.split()[0] < "K9" for line in expected_lines(case))
    assert code == (1 if has_errors else 0)
    assert doc["ok"] is (not has_errors)
    assert {d["code"] for d in doc["diagnostics"]} == {line.split()[0] for line in expected_lines(case)}
    for d in doc["diagnostics"]:
        assert d["hint"], d  # every diagnostic says how to fix it
