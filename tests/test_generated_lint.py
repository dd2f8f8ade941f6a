"""The generated code lints clean: no unused import, no unused local, no undefined name.

pyflakes over every Python file Keel writes, for the example apps and for the specs the
other tests use (each exercises different features: auth, soft delete, integer ids,
envelopes, offset pagination, computed fields, invariants, workflows, approvals...). An
import the code does not use costs start-up time and hides real mistakes from the linter a
team runs on its generated app; a name the code uses but never defines is a crash waiting on
a code path the tests missed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from pyflakes.api import check
from pyflakes.reporter import Reporter

from generated_app import render_into
from test_generated_actions import SPEC as ACTIONS_SPEC  # noqa: E402
from test_generated_audit import VAULT_SPEC  # noqa: E402
from test_generated_auth import CLUB_SPEC  # noqa: E402
from test_generated_computed import SHOP_SPEC  # noqa: E402
from test_generated_idempotency import INBOX  # noqa: E402
from test_generated_invariants import EVENTS_SPEC  # noqa: E402
from test_generated_migrations import LAB_SPEC  # noqa: E402
from test_generated_openapi import BOARD_SPEC, VARIANT_API  # noqa: E402
from test_generated_permissions import NOTES_SPEC  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# bench/synthetic.py by path: other tests import generated packages named `synthetic`.
_LOADER = importlib.util.spec_from_file_location("keel_bench_synthetic", REPO / "bench" / "synthetic.py")
_BENCH = importlib.util.module_from_spec(_LOADER)
_LOADER.loader.exec_module(_BENCH)
CATALOG = (REPO / "tests/specs/catalog/keel.yaml").read_text(encoding="utf-8")

SPECS = {
    "actions": ACTIONS_SPEC,
    "vault": VAULT_SPEC,
    "club": CLUB_SPEC,
    "shop": SHOP_SPEC,
    "inbox": INBOX,
    "events": EVENTS_SPEC,
    "lab": LAB_SPEC,
    "board": BOARD_SPEC,
    "notes": NOTES_SPEC,
    "catalog": CATALOG,
    # The catalog again with envelopes, offset pagination, camelCase and field-map errors.
    "variant": CATALOG.replace("name: catalog", "name: variant").replace("api:\n", VARIANT_API, 1),
    "synthetic": _BENCH.synthetic_spec(3),
}


class _Collect(Reporter):
    """pyflakes' reporter, keeping the messages instead of printing them."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def unexpectedError(self, filename, msg):  # type: ignore[no-untyped-def]
        self.messages.append(f"{filename}: {msg}")

    def syntaxError(self, filename, msg, lineno, offset, text):  # type: ignore[no-untyped-def]
        self.messages.append(f"{filename}:{lineno}: {msg}")

    def flake(self, message):  # type: ignore[no-untyped-def]
        self.messages.append(str(message))


def _lint(files: dict[str, str]) -> list[str]:
    reporter = _Collect()
    for name, text in sorted(files.items()):
        check(text, name, reporter)
    return reporter.messages


def test_the_committed_example_apps_lint_clean():
    files = {str(path.relative_to(REPO)): path.read_text(encoding="utf-8")
             for path in sorted((REPO / "generated").rglob("*.py"))}
    assert len(files) > 50
    assert _lint(files) == []


@pytest.mark.parametrize("name", sorted(SPECS))
def test_generated_code_lints_clean(name, tmp_path):
    spec = tmp_path / "spec"
    spec.mkdir()
    (spec / "keel.yaml").write_text(SPECS[name], encoding="utf-8")
    rendered = render_into(spec, tmp_path / "out")
    files = {rel: data.decode() for rel, data in rendered.items() if rel.endswith(".py")}
    assert files, "nothing rendered"
    assert _lint(files) == []


def test_the_check_sees_an_unused_import():
    """The lint is live: the same check flags what it should."""
    assert _lint({"m.py": "import os\n"}) == ["m.py:1:1: 'os' imported but unused"]
    assert _lint({"m.py": "def f():\n    return undefined_name\n"}) == [
        "m.py:2:12: undefined name 'undefined_name'"]
