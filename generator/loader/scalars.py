"""Scalar resolution: YAML 1.2 core schema, core tags, and YAML 1.1 look-alikes.

PyYAML resolves plain scalars with YAML 1.1 rules (``no`` is False, ``12:30`` is
750, ``0123`` is 83). Keel reads specs with the YAML 1.2 core schema instead and
warns (K911) where the two readings differ, because other tools that touch the
same file (linters, CI templating, editors) may still use 1.1.
"""

from __future__ import annotations

import math
import re

__all__ = ["CORE_TAGS", "MISMATCH", "TAG_PREFIX", "resolve_plain", "resolve_tagged", "yaml11_note"]

TAG_PREFIX = "tag:yaml.org,2002:"
CORE_TAGS = frozenset({"str", "int", "float", "bool", "null", "map", "seq"})

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")

# YAML 1.1 forms that the 1.2 core schema reads differently.
_YAML11_BOOL = {"yes": True, "y": True, "on": True, "no": False, "n": False, "off": False}
_SEXAGESIMAL = re.compile(r"([-+]?)([1-9][0-9_]*(?::[0-5]?[0-9])+)(\.[0-9_]*)?")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]+")
_YAML11_NUMBER = re.compile(
    r"[-+]?0b[01_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
    r"|[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
)


def _number(text: str) -> int | float:
    """An int from decimal text; huge values (beyond Python's digit limit) become inf."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def resolve_plain(text: str) -> object:
    """The YAML 1.2 core-schema value of an untagged plain scalar."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    first = text[0]
    if first not in "0123456789+-.":
        return text
    if _INT.fullmatch(text):
        return _number(text)
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return -math.inf if first == "-" else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text


MISMATCH = object()  # returned by resolve_tagged when the text does not fit the tag


def resolve_tagged(tag: str, text: str) -> object:
    """Value of a scalar with core tag ``tag`` (without prefix), or MISMATCH."""
    if tag == "str":
        return text
    value = resolve_plain(text)
    if tag == "null":
        return None if text in _NULL else MISMATCH
    if tag == "bool":
        return value if isinstance(value, bool) else MISMATCH
    if tag == "int":
        return value if type(value) is int else MISMATCH
    if tag == "float":
        if type(value) is int:
            return float(value)
        return value if isinstance(value, float) else MISMATCH
    return MISMATCH  # map/seq on a scalar


def _base60(sign: str, body: str, fraction: str | None) -> int | float:
    total: int | float = 0
    for part in body.replace("_", "").split(":"):
        total = total * 60 + int(part)
    if fraction and fraction != ".":
        total += float("0" + fraction.replace("_", ""))
    return -total if sign == "-" else total


def yaml11_note(text: str, value: object) -> tuple[str, str] | None:
    """(message, hint) when a plain scalar reads differently under YAML 1.1, else None."""
    if not text or text[0] not in "0123456789+-.yYnNoO":
        return None
    lowered = text.lower()
    if lowered in _YAML11_BOOL:
        other = "true" if _YAML11_BOOL[lowered] else "false"
        return (
            f'plain {text} is read as the string "{text}", but YAML 1.1 tools read it as the boolean {other}',
            f'quote it ("{text}") if you mean text, or write {other} for a boolean',
        )
    if isinstance(value, str):
        sexa = _SEXAGESIMAL.fullmatch(text)
        if sexa:
            other = _base60(*sexa.groups())
            return (
                f'plain {text} is read as the string "{text}", but YAML 1.1 tools read it as '
                f"the number {other} (base 60)",
                f'quote it: "{text}"',
            )
        if _YAML11_NUMBER.fullmatch(text):
            return (
                f'plain {text} is read as the string "{text}", but YAML 1.1 tools read it as a number',
                f'quote it: "{text}"',
            )
        return None
    if type(value) is int:
        if _LEADING_ZERO.fullmatch(text):
            digits = text.lstrip("+-")
            other = f"the octal number {int(digits, 8)}" if set(digits) <= set("01234567") else "a string"
            return (
                f"plain {text} is read as the number {value}, but YAML 1.1 tools read it as {other}",
                f'quote it ("{text}") if you mean text, or drop the leading zero',
            )
        if text.startswith("0o"):
            return (
                f'plain {text} is read as the number {value}, but YAML 1.1 tools read it as the string "{text}"',
                f'quote it ("{text}") if you mean text, or write {value}',
            )
        return None
    if isinstance(value, float) and math.isfinite(value) and repr(value) != text:
        if _YAML11_NUMBER.fullmatch(text):
            message = f'plain {text} is read as the number {value!r} (by YAML 1.1 tools too), not as the text "{text}"'
        else:
            message = f'plain {text} is read as the number {value!r}, but YAML 1.1 tools read it as the string "{text}"'
        return message, f'quote it: "{text}"'
    return None
