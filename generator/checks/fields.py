"""Each field's options must make sense for its type and with each other.

An option that does not apply (``scale`` on a string), a default the column
could never hold, bounds that exclude every value, a regex that does not compile:
each is caught here, at the option that is wrong.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from generator.checks.context import CheckContext, article
from generator.loader.sourcemap import join_pointer
from generator.model.spec import Entity, Field

COMMON = frozenset({"type", "description", "example", "required", "default", "auto", "unique", "index",
                    "read_only", "write_once", "renamed_from", "column", "access"})
BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset({"min_length", "max_length", "pattern"}),
    "text": frozenset({"min_length", "max_length"}),
    "email": frozenset({"max_length"}),
    "url": frozenset({"max_length"}),
    "slug": frozenset({"from", "max_length"}),
    "integer": frozenset({"min", "max"}),
    "decimal": frozenset({"min", "max", "precision", "scale"}),
    "enum": frozenset({"values"}),
    "boolean": frozenset(), "date": frozenset(), "datetime": frozenset(), "uuid": frozenset(),
    "json": frozenset(), "password": frozenset({"min_length", "max_length"}),
    "ref": frozenset({"to", "on_delete"}),
    "many": frozenset({"to", "via", "through"}),
    "has_many": frozenset({"to", "via"}),
}
# Options that make no sense on a collection, which has no column of its own.
NOT_ON_COLLECTIONS = frozenset({"required", "default", "auto", "unique", "index", "write_once", "column", "example"})
NEEDED = {"enum": "values", "slug": "from", "ref": "to", "many": "to", "has_many": "to"}
AUTO_TYPES = {"now": ("datetime",), "today": ("date",), "uuid": ("uuid",), "current_user": ("ref",)}
ENUM_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
MAX_PRECISION = 38


def check_fields(ctx: CheckContext) -> None:
    for entity in ctx.spec.entities:
        names = {f.name for f in entity.fields}
        for f in entity.fields:
            if not f.synthesized:
                check_field(ctx, f, entity)
                if f.renamed_from and f.renamed_from in names:
                    ctx.report("K416", f"`renamed_from: {f.renamed_from}` names a field that still exists",
                               join_pointer(f.pointer, "renamed_from"),
                               hint="remove `renamed_from`, or remove the old field")
        for container in list(entity.actions) + (list(entity.workflow.transitions) if entity.workflow else []):
            for f in container.input:
                check_field(ctx, f, entity, is_input=True)
        if entity.renamed_from and ctx.entity(entity.renamed_from) is not None:
            ctx.report("K416", f"`renamed_from: {entity.renamed_from}` names an entity that still exists",
                       join_pointer(entity.pointer, "renamed_from"), hint="remove `renamed_from`")


def check_field(ctx: CheckContext, f: Field, entity: Entity, is_input: bool = False) -> None:
    def at(option: str) -> str:
        return join_pointer(f.pointer, option)

    allowed = COMMON | BY_TYPE[f.type]
    for option in sorted(f.options - allowed):
        ctx.report("K401", f"`{option}` does not apply to {article(f.type)} field", at(option), at_key=True,
                   hint=_applies_to(option))
    if f.type in ("many", "has_many"):
        for option in sorted(f.options & NOT_ON_COLLECTIONS):
            ctx.report("K401", f"`{option}` does not apply to {article(f.type)} relation (it has no column)", at(option),
                       at_key=True, hint="remove it")
    needed = NEEDED.get(f.type)
    if needed and needed not in f.options and not f.synthesized:
        ctx.report("K420", f"{article(f.type).capitalize()} field needs `{needed}`", f.pointer, at_key=True,
                   hint={"values": "list the values, e.g. `values: [low, medium, high]`",
                         "from": "name the field the slug is made from, e.g. `from: title`"}.get(
                       needed, "name the target entity, e.g. `to: User`"))
    if f.type == "password":
        for option in sorted(f.options & {"unique", "index", "default", "example"}):
            ctx.report("K412", f"`{option}` is not allowed on a password field (only its hash is stored)",
                       at(option), at_key=True, hint="remove it")
        if f.access_read is not None:
            ctx.report("K412", "a password field can never be read", at("access"), at_key=True,
                       hint="remove `access.read`; passwords are write-only")
        if ctx.spec.auth is None and not is_input:
            ctx.report("K421", "a password field needs sign-in: the app hashes passwords with argon2 as part of "
                       "`auth:`", f.pointer, at_key=True,
                       hint="add an `auth:` section naming the user entity, or use `type: string`")
    _check_conflicts(ctx, f, at)
    _check_bounds(ctx, f, at)
    if f.type == "enum":
        _check_enum_values(ctx, f, at)
    if f.pattern is not None and "pattern" in BY_TYPE[f.type]:
        try:
            re.compile(f.pattern)
        except re.error as exc:
            ctx.report("K405", f"invalid regular expression: {exc.msg}", at("pattern"),
                       hint="check brackets and escapes; in YAML, quote the pattern with single quotes")
    if f.has_default and f.type != "password":
        problem = default_problem(f, f.default)
        if problem:
            ctx.report("K402", f"default {_show(f.default)} {problem}", at("default"), hint=_default_hint(f))
    for option, value in (("min", f.min), ("max", f.max), ("default", f.default), ("example", f.example)):
        if isinstance(value, float) and not math.isfinite(value):
            ctx.report("K118", f"`{option}` is {value}: numbers in a spec must be finite", at(option),
                       hint="use a finite number")
    if f.auto is not None and f.type not in AUTO_TYPES[f.auto]:
        ctx.report("K417", f"`auto: {f.auto}` needs a {' or '.join(AUTO_TYPES[f.auto])} field, not {f.type}",
                   at("auto"), hint=_auto_hint(f.auto))
    if f.auto == "current_user" and f.type == "ref" and f.to is not None:
        auth = ctx.spec.auth
        if auth is None:
            ctx.report("K512", "`auto: current_user` needs an `auth:` section", at("auto"),
                       hint="declare `auth:` naming the user entity")
        elif f.to.name != auth.user.name:
            ctx.report("K417", f"`auto: current_user` needs a ref to `{auth.user.name}`, not `{f.to.name}`",
                       at("auto"), hint=f"set `to: {auth.user.name}`")
    if f.slug_from is not None:
        source = entity.field(f.slug_from.name)
        if source is not None and source.type not in ("string", "text"):
            ctx.report("K409", f"a slug is made from text, but `{source.name}` is a {source.type} field",
                       f.slug_from.pointer, hint="name a string field, e.g. `from: title`")
    if is_input and (f.auto or f.read_only or f.unique or f.index or f.write_once):
        option = next(o for o in ("auto", "read_only", "unique", "index", "write_once") if o in f.options)
        ctx.report("K401", f"`{option}` does not apply to an input field", at(option), at_key=True,
                   hint="input fields are request parameters, not columns")


def _check_conflicts(ctx: CheckContext, f: Field, at) -> None:
    if "read_only" in f.options and f.write_once:
        ctx.report("K415", "a field cannot be both read_only and write_once", at("write_once"), at_key=True,
                   hint="write_once lets clients set it on create; read_only never does: keep one")
    if f.auto and f.has_default:
        ctx.report("K415", "a field cannot have both `auto` and `default`", at("default"), at_key=True,
                   hint="keep one: `auto` for a server value, `default` for a literal")
    if (f.read_only and "read_only" in f.options and f.required and not f.has_default and not f.auto
            and f.type not in ("many", "has_many")):
        ctx.report("K415", "a read-only field that is required needs a default or an auto value", at("read_only"),
                   at_key=True, hint="add `default:`, `auto:`, or make it `required: false`")
    if f.type == "ref" and f.on_delete == "set_null" and f.required:
        ctx.report("K407", "`on_delete: set_null` on a required reference", at("on_delete"),
                   hint="make the field `required: false`, or use `cascade` or `restrict`")


def _check_bounds(ctx: CheckContext, f: Field, at) -> None:
    if f.min_length is not None and f.max_length is not None and f.min_length > f.max_length:
        ctx.report("K403", f"min_length {f.min_length} is greater than max_length {f.max_length}", at("min_length"),
                   hint="swap them or fix one")
    if f.min is not None and f.max is not None and f.min > f.max:
        ctx.report("K403", f"min {f.min} is greater than max {f.max}", at("min"), hint="swap them or fix one")
    if f.type == "decimal":
        precision, scale = f.precision, f.scale
        if precision is not None and not 1 <= precision <= MAX_PRECISION:
            ctx.report("K404", f"precision {precision} is outside 1..{MAX_PRECISION}", at("precision"),
                       hint="money is usually `precision: 12, scale: 2`")
        if scale is not None and scale < 0:
            ctx.report("K404", f"scale {scale} is negative", at("scale"), hint="use 0 or more digits after the point")
        elif scale is not None and scale > (precision if precision is not None else 18):
            ctx.report("K404", f"scale {scale} is greater than precision {precision if precision is not None else 18}",
                       at("scale"), hint="precision counts all digits, including those after the point")


def _check_enum_values(ctx: CheckContext, f: Field, at) -> None:
    seen: set[str] = set()
    for i, value in enumerate(f.values):
        ptr = join_pointer(f.pointer, "values", i)
        if value in seen:
            ctx.report("K406", f"enum value `{value}` is listed twice", ptr, hint="remove the repeat")
        elif not ENUM_VALUE.match(value):
            ctx.report("K406", f"enum value {_show(value)} must be letters, digits, `_`, `.` or `-`", ptr,
                       hint="e.g. `in_progress`")
        seen.add(value)


def default_problem(f: Field, value: Any) -> str | None:
    """Why ``value`` cannot be this field's value, or None if it can. Also used for examples."""
    t = f.type
    if value is None:
        return "is null; omit `default` or make the field `required: false`" if f.required else None
    if t in ("string", "text", "email", "url", "slug"):
        if not isinstance(value, str):
            return f"is not text (the field is a {t})"
        if f.max_length is not None and len(value) > f.max_length:
            return f"is longer than max_length {f.max_length}"
        if f.min_length is not None and len(value) < f.min_length:
            return f"is shorter than min_length {f.min_length}"
        if f.pattern and _safe_fullmatch(f.pattern, value) is False:
            return "does not match the field's pattern"
        return None
    if t == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return "is not an integer"
        return _range_problem(f, value)
    if t == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return "is not a decimal number"
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return "is not a decimal number"
        if not number.is_finite():
            return "is not finite"
        scale = f.scale if f.scale is not None else 2
        if -number.as_tuple().exponent > scale:
            return f"has more than {scale} digits after the point"
        return _range_problem(f, number)
    if t == "boolean":
        return None if isinstance(value, bool) else "is not true or false"
    if t == "enum":
        return None if value in f.values else f"is not one of the values ({', '.join(f.values)})"
    if t == "date":
        return _iso(value, dt.date.fromisoformat, "a date like 2024-01-31")
    if t == "datetime":
        problem = _iso(value, dt.datetime.fromisoformat, "a datetime like 2024-01-31T09:00:00Z")
        if problem is None and dt.datetime.fromisoformat(value).tzinfo is None:
            return "has no time zone (write Z or +01:00)"
        return problem
    if t == "uuid":
        try:
            uuid.UUID(str(value))
        except ValueError:
            return "is not a UUID"
        return None
    if t == "json":
        return None
    return f"cannot be given as a literal for a {t} field"


def _range_problem(f: Field, number: Any) -> str | None:
    if f.min is not None and number < Decimal(str(f.min)):
        return f"is less than min {f.min}"
    if f.max is not None and number > Decimal(str(f.max)):
        return f"is greater than max {f.max}"
    return None


def _iso(value: Any, parse, form: str) -> str | None:
    if not isinstance(value, str):
        return f"is not {form} (quote it)"
    try:
        parse(value.replace("Z", "+00:00"))
    except ValueError:
        return f"is not {form}"
    return None


def _safe_fullmatch(pattern: str, value: str) -> bool | None:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return None


def _show(value: Any) -> str:
    return f"`{value!r}`" if not isinstance(value, str) else f"`\"{value}\"`"


def _default_hint(f: Field) -> str:
    if f.type == "enum":
        return f"use one of: {', '.join(f.values)}"
    if f.type in ("date", "datetime"):
        return "for the current time use `auto: now` (or `auto: today`) instead of a default"
    if f.type == "ref":
        return "a reference has no literal default; use `auto: current_user` for the current user"
    return f"give a value {article(f.type)} field can hold"


def _applies_to(option: str) -> str:
    types = sorted(t for t, opts in BY_TYPE.items() if option in opts)
    return f"`{option}` applies to: {', '.join(types)}" if types else "remove it"


def _auto_hint(auto: str) -> str:
    return {"now": "use `type: datetime`", "today": "use `type: date`", "uuid": "use `type: uuid`",
            "current_user": "use `type: ref` to the user entity"}[auto]
