"""Valid and invalid values for every field type, decided at generation time for the generated tests.

``sample(column, n)`` is the n-th valid value of a column: it satisfies the column's type and
every constraint the app checks (lengths, patterns, numeric bounds, decimal digits, enum values),
and different ``n`` give different values where the type allows it, so records built from
samples 0, 1, 2... do not collide on unique fields and can be told apart by filters and sorts.
Each sample is checked against the same constraints before it is used; a column no valid value
can be made for raises ``NoSample`` and the cases that need one are not generated.

``invalid_samples(column)`` lists values the app must refuse for that column (wrong JSON type,
outside a bound, not matching a pattern...), each with a short description.

Values have two forms: ``wire`` (the JSON a client sends: decimals as strings, dates in ISO
format) and ``python`` (what the database holds: ``Decimal``, ``date``...), from which
``py_source`` prints Python source for the generated tests to insert rows directly.
"""

from __future__ import annotations

import datetime
import decimal
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

try:  # Python 3.11+: the regular expression parser (to make strings that match a pattern)
    import re._constants as sre_constants
    import re._parser as sre_parse
except ImportError:  # pragma: no cover - older Pythons are not supported by Keel
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from generator.ir.nodes import ColumnIR

__all__ = ["NoSample", "Sample", "invalid_samples", "json_value", "py_source", "sample", "slugify",
           "string_matching"]

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"  # the generated app's check (generator.targets.api)
URL_PATTERN = r"^https?://[^\s]+$"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BASE_DATE = datetime.date(2024, 1, 10)
BASE_DATETIME = datetime.datetime(2024, 1, 10, 12, 0, 0, tzinfo=datetime.timezone.utc)


class NoSample(Exception):
    """No valid value of this column can be made at generation time (an unusual pattern, an empty range)."""


@dataclass(frozen=True)
class Sample:
    wire: Any  # the JSON value a client sends
    python: Any  # the value as the database stores it


def decimal_digits(c: ColumnIR) -> tuple[int, int]:
    """(precision, scale) of a decimal column, from its SQL type ``Numeric(p, s, ...)``."""
    inside = c.sa_type[c.sa_type.index("(") + 1:].split(",")
    return int(inside[0]), int(inside[1])


def _label(c: ColumnIR) -> str:
    words = c.name.replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) or "Value"


def _fit_text(label: str, suffix: str, min_length: int, max_length: int | None) -> str:
    """``label + suffix`` cut or padded to the bounds; the suffix (which makes it unique) is kept."""
    if max_length is not None and len(suffix) > max_length:
        suffix = suffix[-max_length:]
    value = label + suffix
    if max_length is not None and len(value) > max_length:
        value = label[: max_length - len(suffix)] + suffix
    if len(value) < min_length:
        value = label + "x" * (min_length - len(value)) + suffix
    return value


def sample(c: ColumnIR, n: int) -> Sample:
    """The n-th valid value of ``c`` (checked); ``NoSample`` when none can be made."""
    value = _make(c, n)
    problem = check(c, value.wire)
    if problem is not None:
        raise NoSample(f"{c.name}: sample {value.wire!r} {problem}")
    return value


def _make(c: ColumnIR, n: int) -> Sample:  # noqa: C901 - one case per type
    schema = c.json_schema
    t = c.spec_type
    if t in ("string", "text"):
        text = _fit_text(_label(c), f" {n:02d}", schema.get("minLength", 0), schema.get("maxLength"))
        if "pattern" in schema and re.fullmatch(schema["pattern"], text) is None:  # else: readable text fits
            text = string_matching(schema["pattern"], n, schema.get("minLength", 0), schema.get("maxLength"))
        return Sample(text, text)
    if t == "email":
        local = re.sub(r"[^a-z0-9]", "", c.name.lower()) or "user"
        text = f"{local}{n:02d}@example.test"
        limit = schema.get("maxLength")
        if limit is not None and len(text) > limit:
            text = f"u{n}@e.io"
        return Sample(text, text)
    if t == "url":
        text = f"https://example.test/{n}"
        return Sample(text, text)
    if t == "slug":
        text = f"{re.sub(r'[^a-z0-9]+', '-', c.name.lower()).strip('-') or 'item'}-{n:02d}"
        return Sample(text, text)
    if t == "password":
        text = _fit_text("correct horse battery", f" {n:02d}", schema.get("minLength", 8), schema.get("maxLength"))
        return Sample(text, text)
    if t == "integer":
        low, high = schema.get("minimum", INT64_MIN), schema.get("maximum", INT64_MAX)
        base = min(max(10, low), high)
        value = base + n if base + n <= high else base - n
        return Sample(value, value)
    if t == "decimal":
        return _decimal(c, n)
    if t == "boolean":
        return Sample(n % 2 == 0, n % 2 == 0)
    if t == "date":
        day = BASE_DATE + datetime.timedelta(days=n)
        return Sample(day.isoformat(), day)
    if t == "datetime":
        moment = BASE_DATETIME + datetime.timedelta(hours=n)
        return Sample(moment.isoformat().replace("+00:00", "Z"), moment)
    if t == "uuid":
        value = uuid.UUID(f"00000000-0000-4000-8000-{n:012d}")
        return Sample(str(value), value)
    if t == "enum":
        values = schema["enum"]
        return Sample(values[n % len(values)], values[n % len(values)])
    if t == "json":
        return Sample({"n": n}, {"n": n})
    raise NoSample(f"{c.name}: no sample for type {t}")


def _decimal(c: ColumnIR, n: int) -> Sample:
    precision, scale = decimal_digits(c)
    quantum = decimal.Decimal(1).scaleb(-scale)
    largest = decimal.Decimal(10) ** (precision - scale) - quantum
    low = decimal.Decimal(c.json_schema["x-minimum"]) if "x-minimum" in c.json_schema else -largest
    high = decimal.Decimal(c.json_schema["x-maximum"]) if "x-maximum" in c.json_schema else largest
    low, high = max(low, -largest), min(high, largest)
    base = min(max(decimal.Decimal("1.5"), low), high)
    step = decimal.Decimal("2.25")
    value = (base + step * n).quantize(quantum, rounding=decimal.ROUND_DOWN)
    if value > high:
        value = (high - quantum * n).quantize(quantum, rounding=decimal.ROUND_DOWN)
    if value < low:
        value = (low + quantum * n).quantize(quantum, rounding=decimal.ROUND_UP)
    return Sample(format(value, "f"), value)


def check(c: ColumnIR, wire: Any) -> str | None:
    """Why the app would refuse ``wire`` for ``c``, or None when it accepts it (the app's own checks, mirrored)."""
    schema = c.json_schema
    t = c.spec_type
    if t in ("string", "text", "email", "url", "slug", "password"):
        if not isinstance(wire, str):
            return "is not a string"
        if len(wire) < schema.get("minLength", 0):
            return "is too short"
        if "maxLength" in schema and len(wire) > schema["maxLength"]:
            return "is too long"
        patterns = [schema["pattern"]] if "pattern" in schema else []
        patterns += [EMAIL_PATTERN] if t == "email" else [URL_PATTERN] if t == "url" else []
        for pattern in patterns:
            if re.search(pattern, wire) is None:  # pydantic searches; the spec patterns are anchored
                return f"does not match {pattern}"
        return None
    if t == "integer":
        if not isinstance(wire, int) or isinstance(wire, bool):
            return "is not an integer"
        if not schema.get("minimum", INT64_MIN) <= wire <= schema.get("maximum", INT64_MAX):
            return "is out of range"
        return None
    if t == "decimal":
        precision, scale = decimal_digits(c)
        whole = precision - scale
        fraction = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
        if not isinstance(wire, str) or not re.fullmatch(rf"-?[0-9]{{1,{whole}}}{fraction}", wire):
            return "is not a decimal with the column's digits"
        number = decimal.Decimal(wire)
        if "x-minimum" in schema and number < decimal.Decimal(schema["x-minimum"]):
            return "is below the minimum"
        if "x-maximum" in schema and number > decimal.Decimal(schema["x-maximum"]):
            return "is above the maximum"
        return None
    if t == "enum":
        return None if wire in schema["enum"] else "is not a declared value"
    return None


def invalid_samples(c: ColumnIR) -> list[tuple[str, Any]]:
    """Values the app must refuse for ``c``: (what is wrong, the JSON value)."""
    schema = c.json_schema
    t = c.spec_type
    out: list[tuple[str, Any]] = []
    if not c.nullable:
        out.append(("null", None))
    if t in ("string", "text", "email", "url", "password"):
        out.append(("a number", 12345))
        if schema.get("minLength", 0) > 0:
            out.append(("too short", ""))
        if "maxLength" in schema and schema["maxLength"] < 5000:
            out.append(("too long", "x" * (schema["maxLength"] + 1)))
        if "pattern" in schema:
            for candidate in ("!", "not matching the pattern", "0"):
                if re.search(schema["pattern"], candidate) is None:
                    out.append(("not matching the pattern", candidate))
                    break
        if t == "email":
            out.append(("not an email address", "not-an-email"))
        if t == "url":
            out.append(("not an http(s) URL", "not a url"))
    elif t == "integer":
        out.append(("a string", "5"))
        out.append(("a fraction", 1.5))
        low, high = schema.get("minimum", INT64_MIN), schema.get("maximum", INT64_MAX)
        if low > INT64_MIN:
            out.append(("below the minimum", low - 1))
        if high < INT64_MAX:
            out.append(("above the maximum", high + 1))
        out.append(("beyond 64 bits", 2**70))
    elif t == "decimal":
        precision, scale = decimal_digits(c)
        out.append(("a JSON number", 1.5))
        out.append(("not a number", "NaN"))
        out.append(("too many decimal places", "1." + "1" * (scale + 1)))
        out.append(("too many digits", "9" * (precision - scale + 1)))
        quantum = decimal.Decimal(1).scaleb(-scale)
        if "x-minimum" in schema:
            out.append(("below the minimum", format(decimal.Decimal(schema["x-minimum"]) - quantum, "f")))
        if "x-maximum" in schema:
            out.append(("above the maximum", format(decimal.Decimal(schema["x-maximum"]) + quantum, "f")))
    elif t == "boolean":
        out.append(("a string", "true"))
        out.append(("a number", 1))
    elif t == "date":
        out.append(("not a date", "2024-13-45"))
        out.append(("a number", 20240110))
    elif t == "datetime":
        out.append(("without a time zone", "2024-01-10T12:00:00"))
        out.append(("not a date-time", "yesterday"))
    elif t == "uuid":
        out.append(("not a UUID", "not-a-uuid"))
    elif t == "enum":
        out.append(("not a declared value", _not_in(schema["enum"])))
    elif t == "ref":
        out.append(("not an id", "not-an-id" if c.py_type == "uuid.UUID" else "1"))
    return [(why, value) for why, value in out if why == "null" or check(c, value) is not None or t in
            ("boolean", "date", "datetime", "uuid", "ref")]


def _not_in(values: list[str]) -> str:
    candidate = "not_a_value"
    while candidate in values:
        candidate += "_"
    return candidate


def filter_text_invalid(parser: str) -> str | None:
    """A query-string value the app's parser for a filter refuses (None: every text is valid)."""
    return {"parse_int": "abc", "parse_decimal": "cheap", "parse_bool": "maybe", "parse_date": "2024-13-45",
            "parse_datetime": "yesterday", "parse_uuid": "not-a-uuid"}.get(parser)


# --- Python values ----------------------------------------------------------------------------


def py_source(value: Any) -> str:
    """Python source for a stored value (the generated tests import datetime, decimal and uuid)."""
    if isinstance(value, decimal.Decimal):
        return f"decimal.Decimal({format(value, 'f')!r})"
    if isinstance(value, datetime.datetime):
        return (f"datetime.datetime({value.year}, {value.month}, {value.day}, {value.hour}, {value.minute}, "
                f"{value.second}, tzinfo=datetime.timezone.utc)")
    if isinstance(value, datetime.date):
        return f"datetime.date({value.year}, {value.month}, {value.day})"
    if isinstance(value, uuid.UUID):
        return f"uuid.UUID({str(value)!r})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {py_source(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py_source(v) for v in value) + "]"
    return repr(value)


def json_value(value: Any) -> Any:
    """A stored value as JSON, tagged where JSON has no such type: {"$decimal": "1.50"}, {"$date": ...}."""
    if isinstance(value, decimal.Decimal):
        return {"$decimal": format(value, "f")}
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return value


def slugify(text: str) -> str:
    """The app's slugify (templates/app/package/wire.py.j2), to know the slug a record will get."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:100].rstrip("-") or "item"


# --- strings matching a pattern -----------------------------------------------------------------

_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: _DIGITS,
    sre_constants.CATEGORY_WORD: _LOWER + _DIGITS,
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_DIGIT: _LOWER,
    sre_constants.CATEGORY_NOT_WORD: "-",
    sre_constants.CATEGORY_NOT_SPACE: _LOWER + _DIGITS,
}
_PRINTABLE = _LOWER + _DIGITS + _UPPER + "-_. "


class _Unsupported(Exception):
    pass


def string_matching(pattern: str, n: int, min_length: int = 0, max_length: int | None = None) -> str:
    """A string that fully matches ``pattern``, the n-th of a sequence of distinct ones where the pattern allows.

    Built from the parsed pattern: each character position is a "digit" whose allowed
    characters are its alphabet, and ``n`` is written in those digits from the right, so
    ``[A-Z]{3}-[0-9]{4}`` gives AAA-0000, AAA-0001... Optional and repeated parts are taken
    at their minimum, with more repetitions only when the length bounds need it.
    Raises ``NoSample`` for constructs it does not handle (look-arounds, back-references).
    """
    try:
        tree = sre_parse.parse(pattern)
    except re.error as exc:  # pragma: no cover - validated specs only
        raise NoSample(str(exc)) from None
    fallback = None  # a valid string in which n did not fit: repeats an earlier one
    for extra in range(0, 40):
        try:
            slots = _slots(tree, extra)
        except _Unsupported as exc:
            raise NoSample(f"pattern {pattern!r}: {exc}") from None
        text, left = _fill(slots, n)
        if len(text) < min_length:
            continue
        if (max_length is not None and len(text) > max_length) or re.fullmatch(pattern, text) is None:
            break
        if not left:
            return text
        fallback = fallback or text  # too few positions to write n in: try more repetitions
    if fallback is not None:
        return fallback
    raise NoSample(f"no string of the allowed length matches {pattern!r}")


def _slots(tree: Any, extra: int) -> list[str]:
    """The alphabet of each character position of one string the pattern matches."""
    out: list[str] = []
    for op, arg in tree:
        if op == sre_constants.LITERAL:
            out.append(chr(arg))
        elif op == sre_constants.NOT_LITERAL:
            out.append("".join(ch for ch in _PRINTABLE if ord(ch) != arg))
        elif op == sre_constants.ANY:
            out.append(_LOWER)
        elif op == sre_constants.IN:
            out.append(_alphabet(arg))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)):
            low, high, sub = arg
            count = low + extra if high is sre_constants.MAXREPEAT or low + extra <= high else high
            if count == 0 and low == 0:
                continue
            for _ in range(count):
                out.extend(_slots(sub, 0))
        elif op == sre_constants.SUBPATTERN:
            out.extend(_slots(arg[-1], extra))
        elif op == sre_constants.BRANCH:
            out.extend(_slots(arg[1][0], extra))
        elif op == sre_constants.AT:
            continue  # ^ $ \A \Z: the whole string is generated anyway
        else:
            raise _Unsupported(str(op))
    return out


def _alphabet(items: Any) -> str:
    chars: list[str] = []
    negate = False
    for op, arg in items:
        if op == sre_constants.NEGATE:
            negate = True
        elif op == sre_constants.LITERAL:
            chars.append(chr(arg))
        elif op == sre_constants.RANGE:
            low, high = arg
            chars.extend(chr(c) for c in range(low, min(high, low + 200) + 1))
        elif op == sre_constants.CATEGORY:
            chars.extend(_CATEGORIES.get(arg, ""))
        else:
            raise _Unsupported(str(op))
    if negate:
        return "".join(ch for ch in _PRINTABLE if ch not in chars)
    # Letters and digits first: they vary the string in ways every database orders the same.
    ordered = sorted(dict.fromkeys(chars), key=lambda ch: (not ch.isalnum(), ch))
    return "".join(ordered)


def _fill(slots: list[str], n: int) -> tuple[str, int]:
    """The string with ``n`` written in its variable positions, and what did not fit (0 when it all did)."""
    chars = [alphabet[0] for alphabet in slots]
    for i in range(len(slots) - 1, -1, -1):
        if n == 0:
            break
        size = len(slots[i])
        if size > 1:
            n, digit = divmod(n, size)
            chars[i] = slots[i][digit]
    return "".join(chars), n
