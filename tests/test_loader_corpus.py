"""The loader's share of the broken-spec corpus: ``tests/corpus/load-*``.

For every case whose expected diagnostics are all loader codes (K1xx, K307,
K91x), ``load_spec`` alone must produce exactly that set of
``CODE file:line:col`` lines, with both the libyaml and the pure-Python parser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import generator.loader.yaml_safe as yaml_safe
from generator.loader import load_spec

CORPUS = Path(__file__).parent / "corpus"
LOADER_CODE = re.compile(r"K1\d\d|K307|K91\d")
PARSERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])


def expected_lines(case: Path) -> set[str]:
    lines = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def loader_only(case: Path) -> bool:
    return all(LOADER_CODE.fullmatch(line.split()[0]) for line in expected_lines(case))


CASES = sorted(p for p in CORPUS.glob("load-*") if (p / "expected.txt").is_file() and loader_only(p))


def test_there_are_enough_loader_cases():
    assert len(CASES) >= 18


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_loader_gives_exactly_the_expected_diagnostics(case: Path, parser, monkeypatch):
    monkeypatch.setattr(yaml_safe, "_LOADER", parser)
    monkeypatch.chdir(case)  # display names become relative to the case directory
    result = load_spec(Path("."))
    actual = {
        f"{d.code} {d.span.file}:{d.span.line}:{d.span.column}" if d.span else f"{d.code} -"
        for d in result.diagnostics
    }
    assert actual == expected_lines(case)
