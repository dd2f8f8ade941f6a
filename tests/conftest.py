"""Shared helpers: write a spec into a temporary directory and validate it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.pipeline import Validation, validate_path

REPO = Path(__file__).resolve().parent.parent

MINIMAL = """\
keel: 1
app:
  name: demo
  title: Demo
  version: "1.0.0"
  description: Demo app
entities:
  Note:
    permissions:
      all: "true"
    fields:
      title: string
"""


@pytest.fixture(autouse=True, scope="session")
def _private_keel_cache(tmp_path_factory):
    """Generation caches formatted code on disk; the tests use their own cache, never the user's."""
    import os

    previous = os.environ.get("KEEL_CACHE_DIR")
    os.environ["KEEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("keel-cache"))
    yield
    if previous is None:
        os.environ.pop("KEEL_CACHE_DIR", None)
    else:
        os.environ["KEEL_CACHE_DIR"] = previous


@pytest.fixture
def validate(tmp_path: Path, monkeypatch):
    """validate(yaml_text, **extra_files) -> Validation, with positions relative to the spec dir."""
    monkeypatch.chdir(tmp_path)

    def run(text: str, **files: str) -> Validation:
        (tmp_path / "keel.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        for name, body in files.items():
            path = tmp_path / name.replace("__", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(body), encoding="utf-8")
        return validate_path(Path("."))

    return run


def codes_at(result: Validation) -> list[tuple[str, int, int]]:
    """(code, line, column) of every diagnostic, in order."""
    return [(d.code, d.span.line, d.span.column) for d in result.diagnostics if d.span]
