"""A regular expression for the decimals a field accepts, bounds included.

A decimal travels as a string ("12.50"), and JSON Schema cannot compare a string with a
number: ``minimum`` and ``maximum`` do not apply. So the bounds are written into the
pattern itself, making the published schema say exactly what the server accepts: at most
``whole`` digits before the point (leading zeros count), at most ``scale`` after it, and a
value from ``minimum`` to ``maximum``. ``-0`` is zero, so it is accepted whenever zero is.

Only ECMA-262 syntax that every JSON Schema validator and test generator understands is
used: classes, alternations and counted repeats (no lookaround, which generators filter).
"""

from __future__ import annotations

from decimal import Decimal


def bounded_decimal_pattern(whole: int, scale: int, minimum: str | None, maximum: str | None) -> str:
    """The anchored pattern of decimals with these digits in [minimum, maximum] (None: unbounded)."""
    low = Decimal(minimum) if minimum is not None else None
    high = Decimal(maximum) if maximum is not None else None
    alternatives = []
    # Without a sign: magnitudes from max(low, 0) to high.
    floor = max(low, Decimal(0)) if low is not None else Decimal(0)
    if high is None or high >= floor:
        alternatives.append(_magnitudes(floor, high, whole, scale))
    # With a minus sign: magnitudes from max(-high, 0) to -low (0 only when zero is in range).
    floor = max(-high, Decimal(0)) if high is not None else Decimal(0)
    if low is None or -low >= floor:
        alternatives.append("-" + _magnitudes(floor, -low if low is not None else None, whole, scale))
    body = "|".join(a for a in alternatives if a and a != "-")
    return f"^(?:{body})$" if body else "^[^\\s\\S]$"  # nothing at all


def _split(value: Decimal, scale: int) -> tuple[int, str]:
    """(integer part, fraction digits padded to ``scale``) of a non-negative value, rounded inward by the caller."""
    text = format(value, "f")
    integer, _, digits = text.partition(".")
    return int(integer), (digits + "0" * scale)[:scale]


def _magnitudes(low: Decimal, high: Decimal | None, whole: int, scale: int) -> str:
    """Unsigned decimals from ``low`` to ``high`` with at most ``whole`` digits before the point (leading
    zeros allowed and counted); empty when there is none."""
    quantum = Decimal(1).scaleb(-scale)
    low = low.quantize(quantum, rounding="ROUND_CEILING")  # the smallest value with `scale` digits >= low
    largest = Decimal(10) ** whole - quantum
    high = largest if high is None else min(high.quantize(quantum, rounding="ROUND_FLOOR"), largest)
    if high < low:
        return ""
    zeros, nines = "0" * scale, "9" * scale
    low_int, low_frac = _split(low, scale)
    high_int, high_frac = _split(high, scale)
    parts: list[str] = []
    if low_int == high_int:
        parts += _with_fraction(_integers(low_int, low_int), _fractions(low_frac, high_frac, scale), whole)
    else:  # the low end's integer, whole integers in between (with any fraction), the high end's integer
        middle_low = low_int if low_frac == zeros else low_int + 1
        middle_high = high_int if high_frac == nines else high_int - 1
        if low_frac != zeros:
            parts += _with_fraction(_integers(low_int, low_int), _fractions(low_frac, nines, scale), whole)
        if middle_low <= middle_high:
            parts += _with_fraction(_integers(middle_low, middle_high), _fractions(zeros, nines, scale), whole)
        if high_frac != nines:
            parts += _with_fraction(_integers(high_int, high_int), _fractions(zeros, high_frac, scale), whole)
    return "(?:" + "|".join(parts) + ")" if parts else ""


def _with_fraction(integers: list[tuple[int, str]], fraction: str | None, whole: int) -> list[str]:
    """Each group of integers of one length, after the leading zeros that still fit, then the fraction."""
    if fraction is None:
        return []
    out = []
    for length, integer in integers:
        zeros = whole - length
        pad = "" if zeros == 0 else "0?" if zeros == 1 else f"0{{0,{zeros}}}"
        out.append(f"{pad}{_group(integer)}{fraction}")
    return out


def _fractions(low: str, high: str, scale: int) -> str | None:
    """The optional fraction (with its point) whose digits, padded with zeros to ``scale``, are in [low, high]."""
    if scale == 0:
        return ""
    parts = []
    for length in range(1, scale + 1):
        start = low[:length] if set(low[length:]) <= {"0"} else _increment(low[:length])
        end = high[:length]
        if start is not None and start <= end:
            parts.append(_same_length(start, end))
    absent = set(low) <= {"0"}  # no fraction at all is the value .000
    if not parts:
        return "" if absent else None
    return rf"(?:\.(?:{'|'.join(parts)})){'?' if absent else ''}"


def _increment(digits: str) -> str | None:
    value = int(digits) + 1
    return None if len(str(value)) > len(digits) else str(value).zfill(len(digits))


def _integers(low: int, high: int) -> list[tuple[int, str]]:
    """Integers from low to high written without leading zeros, as (number of digits, regex) per length."""
    parts = []
    for length in range(len(str(low)), len(str(high)) + 1):
        start = max(low, 10 ** (length - 1) if length > 1 else 0)
        end = min(high, 10**length - 1)
        if start <= end:
            parts.append((length, _same_length(str(start), str(end))))
    return parts


def _same_length(low: str, high: str) -> str:
    """Digit strings of one length from ``low`` to ``high`` (compared as strings, which is as numbers)."""
    if low == high:
        return low
    rest = len(low) - 1
    digits = f"[{low[0]}-{high[0]}]" if low[0] != high[0] else low[0]
    if set(low[1:]) <= {"0"} and set(high[1:]) <= {"9"}:  # every digit string in between
        return digits + (f"[0-9]{{{rest}}}" if rest > 1 else "[0-9]" if rest else "")
    if low[0] == high[0]:
        return low[0] + _group(_same_length(low[1:], high[1:]))
    parts = [low[0] + _group(_same_length(low[1:], "9" * rest))]
    if int(low[0]) + 1 <= int(high[0]) - 1:
        parts.append(_same_length(str(int(low[0]) + 1) + "0" * rest, str(int(high[0]) - 1) + "9" * rest))
    parts.append(high[0] + _group(_same_length("0" * rest, high[1:])))
    return "(?:" + "|".join(parts) + ")"


def _group(regex: str) -> str:
    """``regex`` made safe to follow a literal: grouped unless it is one character, class or group already."""
    if len(regex) == 1 or regex.startswith("(?:") and regex.endswith(")") and regex.count("(?:") == 1:
        return regex
    if "|" not in regex:
        return regex
    return f"(?:{regex})"
