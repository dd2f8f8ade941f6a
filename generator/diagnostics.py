"""Diagnostics: the one value every stage returns besides its output.

A stage never prints and never raises for a problem in the user's spec; it returns
diagnostics. Only the CLI turns them into text (see ``generator.report``).
Lines and columns are 1-based and count characters (code points); ``end_column``
is exclusive, so ``end_column - column`` is the width of the caret underline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.codes import CODES, Severity

__all__ = ["Diagnostic", "Related", "Severity", "Span", "has_errors", "sort_key"]


@dataclass(frozen=True, slots=True)
class Span:
    """A range in one source file."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def shifted(self, chars: int, width: int | None = None) -> "Span":
        """The span ``chars`` characters to the right on the same line (for positions inside a scalar)."""
        col = self.column + chars
        end = col + width if width is not None else None
        return Span(self.file, self.line, col, self.line if end else None, end)


@dataclass(frozen=True, slots=True)
class Related:
    """Another place that explains a diagnostic (the first definition of a duplicate, say)."""

    message: str
    span: Span | None


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    pointer: str = ""
    hint: str | None = None
    related: tuple[Related, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # An unregistered code is a bug in Keel, never in the user's spec.
        if self.code not in CODES:
            raise KeyError(f"diagnostic code {self.code} is not registered in generator/codes.py")

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def has_errors(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple:
    s = d.span
    if s is None:
        return ("", 0, 0, d.code, d.message)
    return (s.file, s.line, s.column, d.code, d.message)
