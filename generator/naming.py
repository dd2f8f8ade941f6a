"""Names derived from spec names: plurals, table names, URL segments, wire names.

Pure functions, used by the checks (to find collisions before any code exists)
and by the generator (to name what it emits). One place, so both always agree.
"""

from __future__ import annotations

import re

__all__ = ["camel", "kebab", "pluralize", "snake", "table_name", "wire_name"]

_IRREGULAR = {"person": "people", "child": "children", "man": "men", "woman": "women", "datum": "data"}
_UNCOUNTABLE = {"data", "info", "information", "money", "news", "series", "species", "equipment", "feedback"}


def snake(name: str) -> str:
    """``ExpenseReport`` -> ``expense_report``; already-snake names are unchanged."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def pluralize(word: str) -> str:
    """English plural of the last word of a snake_case name (``line_item`` -> ``line_items``)."""
    head, _, last = word.rpartition("_")
    prefix = head + "_" if head else ""
    lower = last.lower()
    if lower in _UNCOUNTABLE:
        return word
    if lower in _IRREGULAR:
        return prefix + _IRREGULAR[lower]
    if re.search(r"[^aeiou]y$", lower):
        return prefix + last[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", lower):
        return prefix + last + "es"
    return prefix + last + "s"


def table_name(entity: str, plural: str | None = None, table: str | None = None) -> str:
    if table:
        return table
    return snake(plural) if plural else pluralize(snake(entity))


def kebab(name: str) -> str:
    return snake(name).replace("_", "-")


def camel(name: str) -> str:
    """``due_date`` -> ``dueDate``."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_name(name: str, style: str) -> str:
    return camel(name) if style == "camelCase" else name
