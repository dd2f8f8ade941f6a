"""docs/diagnostics.md documents every diagnostic code, and only registered ones.

Each code has a heading of exactly the form ``### K123: title``; the title is the
one in generator/codes.py, so the reference and the registry cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.codes import CODES

DOC = Path(__file__).resolve().parent.parent / "docs" / "diagnostics.md"
HEADING = re.compile(r"^### (K\d{3}): (.+?)\s*$", re.MULTILINE)
ANY_CODE_HEADING = re.compile(r"^#+\s*`?(K\d{3})\b", re.MULTILINE)


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _headings() -> list[tuple[str, str]]:
    return HEADING.findall(_text())


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_heading(code: str):
    titles = [title for found, title in _headings() if found == code]
    assert titles, f"docs/diagnostics.md has no `### {code}: {CODES[code].title}` heading"
    assert titles == [CODES[code].title], f"{code}: heading title differs from generator/codes.py"


def test_every_heading_names_a_registered_code():
    unknown = [code for code, _ in _headings() if code not in CODES]
    assert not unknown, f"headings for codes that are not in generator/codes.py: {unknown}"


def test_no_code_is_documented_twice():
    codes = [code for code, _ in _headings()]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)


def test_every_code_heading_has_the_exact_form():
    """A heading that mentions a code but not as ``### K123: title`` would escape the checks above."""
    loose = {m.group(1) for m in ANY_CODE_HEADING.finditer(_text())}
    exact = {code for code, _ in _headings()}
    assert loose == exact, f"code headings not of the form `### K123: title`: {sorted(loose - exact)}"


def test_codes_are_documented_in_order():
    codes = [code for code, _ in _headings()]
    assert codes == sorted(codes)


def test_every_code_section_has_a_bad_example_and_a_fix():
    text = _text()
    starts = [m.start() for m in HEADING.finditer(text)] + [len(text)]
    for start, end in zip(starts, starts[1:]):
        section = text[start:end]
        code = HEADING.match(section).group(1)
        assert "**Bad**" in section, f"{code}: no **Bad** example"
        assert "**Fix**" in section, f"{code}: no **Fix**"
