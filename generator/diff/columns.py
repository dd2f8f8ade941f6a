"""One field, before and after: its type, constraints, nullability, defaults and writability.

Works on ``ColumnIR`` (normalised: defaults applied, wire names and JSON Schema
decided), so it serves entity fields and the input fields of actions and
transitions alike. Constraints are read from the column's JSON Schema, the same
one the generated API validates requests with.
"""

from __future__ import annotations

import re
from typing import Callable

from generator.diff.model import Change, Location, change
from generator.ir.nodes import ColumnIR
from generator.ir.types import NO_NUL

__all__ = ["compare_columns", "LOSSLESS"]

# Type changes that keep every stored value exactly (old -> new): the migration converts, nothing is lost.
LOSSLESS = {
    ("string", "text"), ("email", "string"), ("email", "text"), ("url", "string"), ("url", "text"),
    ("slug", "string"), ("slug", "text"), ("enum", "string"), ("enum", "text"), ("uuid", "string"),
    ("uuid", "text"), ("integer", "decimal"), ("date", "datetime"), ("boolean", "integer"),
}
_NUMERIC = re.compile(r"Numeric\((\d+), (\d+)")
_DEFAULT_BOUNDS = (-(2**63), 2**63 - 1)


def compare_columns(target: str, old: ColumnIR, new: ColumnIR, at: tuple[Location | None, Location | None],
                    *, entity_field: bool = True) -> list[Change]:
    """Changes between two versions of one field (already paired: same field, maybe renamed)."""
    out: list[Change] = []
    add: Callable[..., None] = lambda rule, message, **kw: out.append(change(rule, target, message, *at, **kw))
    if old.spec_type != new.spec_type:
        lossless = (old.spec_type, new.spec_type) in LOSSLESS
        add("field-type-changed", f"`{target}` changed type from {old.spec_type} to {new.spec_type}"
            + ("; every stored value converts exactly" if lossless else "; stored values may not convert"),
            destructive=not lossless and entity_field, migration=entity_field,
            details={"from": old.spec_type, "to": new.spec_type})
        return out + _access(target, old, new, add)
    if old.foreign_key and new.foreign_key:
        if old.foreign_key.target_entity != new.foreign_key.target_entity:
            add("ref-target-changed", f"`{target}` now refers to {new.foreign_key.target_entity} instead of "
                f"{old.foreign_key.target_entity}", details={"from": old.foreign_key.target_entity,
                                                              "to": new.foreign_key.target_entity})
        elif old.foreign_key.on_delete != new.foreign_key.on_delete:
            cascades = new.foreign_key.on_delete == "CASCADE"
            add("on-delete-changed", f"deleting the {new.foreign_key.target_entity} that `{target}` refers to now "
                f"does {new.foreign_key.on_delete} instead of {old.foreign_key.on_delete}"
                + ("; deleting it now deletes these records" if cascades else ""), destructive=cascades,
                details={"from": old.foreign_key.on_delete, "to": new.foreign_key.on_delete})
    out += _constraints(target, old, new, add, entity_field)
    return out + _access(target, old, new, add)


def _constraints(target: str, old: ColumnIR, new: ColumnIR, add,  # type: ignore[no-untyped-def]
                 entity_field: bool) -> list[Change]:
    a, b = old.json_schema, new.json_schema
    mig = {"migration": entity_field}
    if a.get("maxLength") != b.get("maxLength"):
        before, after = a.get("maxLength"), b.get("maxLength")
        if after is not None and (before is None or after < before):
            add("max-length-decreased", f"`{target}` max length went from {before or 'unlimited'} to {after}: "
                "longer values are refused" + (" and the column narrows" if entity_field else ""),
                destructive=entity_field, details={"from": before, "to": after}, **mig)
        else:
            add("max-length-increased", f"`{target}` max length went from {before} to {after or 'unlimited'}",
                details={"from": before, "to": after}, **mig)
    if a.get("minLength", 0) != b.get("minLength", 0):
        before, after = a.get("minLength", 0), b.get("minLength", 0)
        rule = "min-length-increased" if after > before else "min-length-decreased"
        add(rule, f"`{target}` min length went from {before} to {after}", details={"from": before, "to": after},
            **mig)
    pattern0, pattern1 = _pattern(a), _pattern(b)
    if pattern0 != pattern1 and old.spec_type not in ("decimal", "slug"):
        if pattern1 is None:
            add("pattern-removed", f"`{target}` no longer has a pattern", details={"from": pattern0})
        else:
            add("pattern-changed", f"`{target}` pattern changed from {pattern0!r} to {pattern1!r}",
                details={"from": pattern0, "to": pattern1})
    if "enum" in a and "enum" in b:
        removed = [v for v in a["enum"] if v not in b["enum"]]
        added = [v for v in b["enum"] if v not in a["enum"]]
        for value in removed:
            add("enum-value-removed", f"`{target}` no longer accepts {value!r}"
                + ("; rows holding it must be migrated" if entity_field else ""), destructive=entity_field,
                details={"value": value}, **mig)
        for value in added:
            add("enum-value-added", f"`{target}` accepts a new value {value!r}", details={"value": value}, **mig)
    out: list[Change] = []
    out += _bounds(target, a, b, add, mig)
    if old.spec_type == "decimal":
        out += _decimal(target, old, new, add, entity_field)
    if old.nullable != new.nullable:
        if new.nullable:
            add("field-became-nullable", f"`{target}` may now be null", **mig)
        else:
            add("field-became-required", f"`{target}` may no longer be null"
                + ("; existing rows without a value must be filled in by the migration" if entity_field else ""),
                **mig)
    if not old.required_on_create and new.required_on_create:
        add("input-became-required", f"clients must now send `{new.wire}` "
            + ("when creating" if entity_field else "") + " (it is required and has no default)"),
    if old.has_default and new.has_default and old.default != new.default:
        add("default-changed", f"`{target}` default changed from {old.default!r} to {new.default!r}",
            details={"from": old.default, "to": new.default})
    if entity_field and old.unique != new.unique and not old.primary_key:
        if new.unique:
            add("unique-added", f"`{target}` must now be unique: the migration fails if two rows share a value, "
                "and a create or update that repeats one gets 409")
        else:
            add("unique-removed", f"`{target}` no longer has to be unique")
    if entity_field and old.index != new.index and not (old.unique or new.unique):
        add("index-changed", f"`{target}` index {'added' if new.index else 'removed'}")
    return out


def _pattern(schema: dict) -> str | None:
    """The spec's pattern; Keel's own no-NUL pattern on every text is not one."""
    pattern = schema.get("pattern")
    return None if pattern == NO_NUL else pattern


def _bounds(target: str, a: dict, b: dict, add, mig: dict) -> list[Change]:  # type: ignore[no-untyped-def]
    low0, low1 = _bound(a, "minimum"), _bound(b, "minimum")
    high0, high1 = _bound(a, "maximum"), _bound(b, "maximum")
    if high0 != high1:
        if high1 is not None and (high0 is None or high1 < high0):
            add("max-decreased", f"`{target}` maximum went from {_show(high0)} to {_show(high1)}",
                details={"from": _show(high0), "to": _show(high1)}, **mig)
        else:
            add("range-widened", f"`{target}` maximum went from {_show(high0)} to {_show(high1)}",
                details={"from": _show(high0), "to": _show(high1)}, **mig)
    if low0 != low1:
        if low1 is not None and (low0 is None or low1 > low0):
            add("min-increased", f"`{target}` minimum went from {_show(low0)} to {_show(low1)}",
                details={"from": _show(low0), "to": _show(low1)}, **mig)
        else:
            add("range-widened", f"`{target}` minimum went from {_show(low0)} to {_show(low1)}",
                details={"from": _show(low0), "to": _show(low1)}, **mig)
    return []


def _bound(schema: dict, key: str):  # type: ignore[no-untyped-def]
    from decimal import Decimal

    value = schema.get(key, schema.get(f"x-{key}"))
    if value is None or value in _DEFAULT_BOUNDS:
        return None
    return Decimal(str(value))


def _show(value) -> str:  # type: ignore[no-untyped-def]
    return "none" if value is None else str(value)


def _decimal(target: str, old: ColumnIR, new: ColumnIR, add,  # type: ignore[no-untyped-def]
             entity_field: bool) -> list[Change]:
    m0, m1 = _NUMERIC.match(old.sa_type), _NUMERIC.match(new.sa_type)
    if not (m0 and m1) or m0.groups() == m1.groups():
        return []
    (p0, s0), (p1, s1) = (tuple(int(x) for x in m.groups()) for m in (m0, m1))
    shrinks = s1 < s0 or (p1 - s1) < (p0 - s0)
    add("decimal-scale-changed", f"`{target}` changed from decimal({p0}, {s0}) to decimal({p1}, {s1})"
        + ("; stored values may be rounded or overflow" if shrinks else "; every stored value fits"),
        breaking=shrinks, destructive=shrinks and entity_field, category="api-breaking" if shrinks else "safe",
        migration=entity_field, details={"from": [p0, s0], "to": [p1, s1]})
    return []


def _access(target: str, old: ColumnIR, new: ColumnIR, add) -> list[Change]:  # type: ignore[no-untyped-def]
    lost = [op for op, was, now in (("create", old.on_create, new.on_create), ("update", old.on_update, new.on_update))
            if was and not now]
    gained = [op for op, was, now in (("create", old.on_create, new.on_create),
                                      ("update", old.on_update, new.on_update)) if now and not was]
    if lost:
        add("field-no-longer-writable", f"clients may no longer send `{new.wire}` on {' or '.join(lost)}",
            details={"operations": lost})
    if gained:
        add("field-write-widened", f"clients may now send `{new.wire}` on {' or '.join(gained)}: review who may set "
            "it", details={"operations": gained})
    return []
