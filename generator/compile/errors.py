"""The one exception the expression compilers raise on purpose."""

from __future__ import annotations

__all__ = ["NotCompilable"]


class NotCompilable(Exception):
    """This expression cannot be compiled to the requested target.

    ``to_python`` raises it for anything that needs the database (a path through
    a relation, an aggregate), so the caller knows to use ``to_sql`` instead;
    ``to_sql`` raises it for the few forms with no portable SQL (arithmetic on a
    date column, for example). ``start``/``end`` locate the offending
    sub-expression in the expression text, like ``ExprError``.
    """

    def __init__(self, reason: str, start: int = 0, end: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.start = start
        self.end = end
