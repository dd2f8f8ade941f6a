"""Entities and their fields, old against new: removals, renames, additions and field changes.

Entities are paired by name, or by ``renamed_from`` (a new entity or field naming
one that only the old version has): a rename is reported as a rename (the table or
column is renamed, no data is lost), never as a drop plus an add. ``renamed_from``
is read from the typed spec and, defensively, from the IR node if it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.diff.columns import compare_columns
from generator.diff.model import Change, Location, Version, change
from generator.ir.nodes import ColumnIR, EntityIR
from generator.loader.sourcemap import join_pointer
from generator.model.spec import Entity, Field

__all__ = ["EntityPair", "compare_entities", "pair_entities"]


@dataclass(frozen=True)
class EntityPair:
    old: EntityIR
    new: EntityIR
    old_spec: Entity
    new_spec: Entity

    @property
    def renamed(self) -> bool:
        return self.old.name != self.new.name


def _renamed_from(spec_node, ir_node) -> str | None:  # type: ignore[no-untyped-def]
    return getattr(spec_node, "renamed_from", None) or getattr(ir_node, "renamed_from", None)


def pair_entities(old: Version, new: Version) -> tuple[list[EntityPair], list[EntityIR], list[EntityIR]]:
    """(pairs, removed, added)."""
    before = {e.name: e for e in old.ir.entities}
    pairs, added, claimed = [], [], set()
    for e in new.ir.entities:
        spec_e = new.spec.entity(e.name)
        previous = _renamed_from(spec_e, e)
        if e.name in before:
            source = before[e.name]
        elif previous and previous in before and new.spec.entity(previous) is None:
            source = before[previous]
        else:
            added.append(e)
            continue
        claimed.add(source.name)
        pairs.append(EntityPair(source, e, old.spec.entity(source.name), spec_e))
    removed = [e for e in old.ir.entities if e.name not in claimed]
    return pairs, removed, added


def compare_entities(old: Version, new: Version, pairs: list[EntityPair], removed: list[EntityIR],
                     added: list[EntityIR]) -> list[Change]:
    out: list[Change] = []
    for e in removed:
        out.append(change("entity-removed", e.name, f"entity `{e.name}` was removed: table `{e.table}` is dropped "
                          f"with its data, and its endpoints under {e.collection_path} are gone",
                          old.locate(old.spec.entity(e.name).pointer), None))
    for e in added:
        out.append(change("entity-added", e.name, f"new entity `{e.name}` (table `{e.table}`)", None,
                          new.locate(new.spec.entity(e.name).pointer)))
    for p in pairs:
        at = (old.locate(p.old_spec.pointer), new.locate(p.new_spec.pointer))
        if p.renamed:
            moved = p.old.collection_path != p.new.collection_path
            out.append(change("entity-renamed", p.new.name, f"entity `{p.old.name}` was renamed to `{p.new.name}`: "
                              f"table `{p.old.table}` becomes `{p.new.table}`, no data is lost"
                              + (f"; its paths move from {p.old.collection_path} to {p.new.collection_path}"
                                 if moved else ""), *at, breaking=moved,
                              category="api-breaking" if moved else "data",
                              details={"from": p.old.name, "to": p.new.name}))
        elif p.old.table != p.new.table:
            out.append(change("table-renamed", p.new.name, f"`{p.new.name}` is now stored in table `{p.new.table}` "
                              f"instead of `{p.old.table}` (renamed, no data is lost)", *at,
                              details={"from": p.old.table, "to": p.new.table}))
        if p.old.id_strategy != p.new.id_strategy:
            out.append(change("id-strategy-changed", p.new.name, f"`{p.new.name}` ids changed from "
                              f"{p.old.id_strategy} to {p.new.id_strategy}", *at,
                              details={"from": p.old.id_strategy, "to": p.new.id_strategy}))
        out += _fields(old, new, p)
        renamed = _renamed_attrs(p)
        out += _composite(p, "unique_constraints", at, renamed)
        out += _composite(p, "indexes", at, renamed)
    return out


def _attr(f: Field) -> str:
    return f"{f.name}_id" if f.type == "ref" else f"{f.name}_hash" if f.type == "password" else f.name


def _columns(ir: EntityIR, spec: Entity) -> dict[str, tuple[Field, ColumnIR | None]]:
    """Each field by name, with its column (None for to-many relations); id is compared per entity."""
    columns = {c.name: c for c in ir.columns}
    return {f.name: (f, columns.get(_attr(f))) for f in spec.fields if f.name != "id"}


def _fields(old: Version, new: Version, p: EntityPair) -> list[Change]:
    out: list[Change] = []
    before, after = _columns(p.old, p.old_spec), _columns(p.new, p.new_spec)
    claimed: set[str] = set()
    for name, (f, column) in after.items():
        previous = getattr(f, "renamed_from", None)
        if column is not None and previous is None:
            previous = getattr(column, "renamed_from", None)
        if name in before:
            source = name
        elif previous and previous in before and previous not in after:
            source = previous
        else:
            out.append(_added(new, p, f, column))
            continue
        claimed.add(source)
        f0, c0 = before[source]
        target = f"{p.new.name}.{name}"
        at = (old.locate(f0.pointer), new.locate(f.pointer))
        if source != name:
            out.append(change("field-renamed", target, f"field `{p.new.name}.{source}` was renamed to `{name}`: "
                              "its column is renamed, no data is lost"
                              + (f"; clients see `{column.wire}` instead of `{c0.wire}`"
                                 if column and c0 and column.wire != c0.wire else ""),
                              *at, breaking=bool(column and c0 and column.wire != c0.wire)
                              or (c0 is None and f0.name != f.name),
                              migration=bool(column and c0 and column.column != c0.column),
                              details={"from": source, "to": name}))
        elif column and c0 and column.wire != c0.wire:
            out.append(change("wire-name-changed", target, f"`{target}` is sent as `{column.wire}` instead of "
                              f"`{c0.wire}`", *at, details={"from": c0.wire, "to": column.wire}))
        if column and c0 and column.column != c0.column and source == name:
            out.append(change("column-renamed", target, f"`{target}` is stored in column `{column.column}` instead of "
                              f"`{c0.column}` (renamed, no data is lost)", *at,
                              details={"from": c0.column, "to": column.column}))
        if column is not None and c0 is not None:
            out += compare_columns(target, c0, column, at)
        elif (column is None) != (c0 is None) or f0.type != f.type or (f0.to and f.to and f0.to.name != f.to.name):
            out.append(change("field-type-changed", target, f"`{target}` changed from {f0.type} to {f.type}", *at,
                              details={"from": f0.type, "to": f.type}))
    for name, (f0, c0) in before.items():
        if name in claimed:
            continue
        target = f"{p.new.name}.{name}"
        at = (old.locate(f0.pointer), new.locate(p.new_spec.pointer))
        if c0 is None:
            many = f0.type == "many"
            out.append(change("relation-removed", target, f"relation `{p.old.name}.{name}` was removed"
                              + ("; its link table is dropped with its rows" if many else ""), *at,
                              destructive=many, migration=many))
        else:
            out.append(change("field-removed", target, f"field `{p.old.name}.{name}` was removed: clients no longer "
                              f"see or send `{c0.wire}`, and column `{c0.column}` is dropped with its data", *at))
    return out


def _added(new: Version, p: EntityPair, f: Field, column: ColumnIR | None) -> Change:
    target = f"{p.new.name}.{f.name}"
    where = new.locate(f.pointer)
    if column is not None and column.required_on_create:
        return change("required-input-added", target, f"new required field `{target}`: clients must send "
                      f"`{column.wire}` when creating, and existing rows need a value (give it a default, or make it "
                      "optional)", None, where)
    backfill = column is not None and not column.nullable and not column.has_default and column.server_value is None
    return change("field-added", target, f"new field `{target}`"
                  + ("; existing rows need a value in the migration" if backfill else ""), None, where,
                  migration=column is not None)


def _renamed_attrs(p: EntityPair) -> dict[str, str]:
    """Old column attribute -> new, for fields renamed with ``renamed_from``."""
    out = {}
    for f in p.new_spec.fields:
        f0 = p.old_spec.field(f.renamed_from) if getattr(f, "renamed_from", None) else None
        if f0 is not None:
            out[_attr(f0)] = _attr(f)
    return out


def _composite(p: EntityPair, attr: str, at: tuple[Location | None, Location | None],
               renamed: dict[str, str]) -> list[Change]:
    before = {tuple(renamed.get(col, col) for col in c.columns) for c in getattr(p.old, attr)}
    after = {tuple(c.columns) for c in getattr(p.new, attr)}
    out = []
    unique = attr == "unique_constraints"
    for cols in sorted(after - before):
        target = f"{p.new.name}.{'unique' if unique else 'index'}({', '.join(cols)})"
        if unique:
            out.append(change("unique-added", target, f"({', '.join(cols)}) must now be unique together on "
                              f"`{p.new.name}`: the migration fails on duplicates", *at))
        else:
            out.append(change("index-changed", target, f"index ({', '.join(cols)}) added on `{p.new.name}`", *at))
    for cols in sorted(before - after):
        target = f"{p.new.name}.{'unique' if unique else 'index'}({', '.join(cols)})"
        if unique:
            out.append(change("unique-removed", target, f"({', '.join(cols)}) no longer has to be unique on "
                              f"`{p.new.name}`", *at))
        else:
            out.append(change("index-changed", target, f"index ({', '.join(cols)}) removed from `{p.new.name}`", *at))
    return out


def entity_pointer(entity: Entity, *tokens: str | int) -> str:
    return join_pointer(entity.pointer, *tokens)
