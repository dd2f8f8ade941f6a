"""Expression errors and limits, shared by the parser and the type checker.

Errors are plain values with 0-based character offsets into the expression
text (end exclusive); the caller maps them onto the spec file. Nothing here
raises for a problem in the user's expression.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = ["ExprError", "MAX_DEPTH", "MAX_LENGTH", "did_you_mean"]

MAX_LENGTH = 2_000  # characters; longer text is rejected before lexing
MAX_DEPTH = 50  # nesting of brackets/unary operators, and depth of the tree


@dataclass(frozen=True, slots=True)
class ExprError:
    """One problem in an expression: a K5xx code and where it is."""

    code: str
    message: str
    start: int
    end: int
    hint: str | None = None


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """``"did you mean `x`?"`` for the closest candidate, or None."""
    lowered = {c.lower(): c for c in candidates}
    match = lowered.get(word.lower())
    if match is None:
        close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
        match = close[0] if close else None
    return f"did you mean `{match}`?" if match else None
