"""The IR as the compilers see it: which attribute, relationship or link table a field name means.

The IR is the single source of naming truth: class names, column attributes
(a ref ``project`` is the attribute ``project_id``), link tables and which of
their columns points at which side. Every name taken from it is checked to be a
plain Python identifier before it is printed into generated source.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from generator.ir.nodes import AppIR, ColumnIR, EntityIR, LinkTableIR, RelationIR

__all__ = ["Schema", "identifier"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def identifier(name: str) -> str:
    """``name`` if it is safe to print as a Python name; otherwise a ValueError (an IR bug)."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or keyword.iskeyword(name):
        raise ValueError(f"not a valid Python identifier in the IR: {name!r}")
    return name


@dataclass(frozen=True, slots=True)
class LinkSides:
    """A many-to-many hop: the link table, the column pointing at this side, the one at the other."""

    table: str
    this: str
    other: str


class Schema:
    def __init__(self, ir: AppIR) -> None:
        self.ir = ir
        self._entities: dict[str, EntityIR] = {e.name: e for e in ir.entities}
        self._links: dict[str, LinkTableIR] = {t.name: t for t in ir.link_tables}

    def entity(self, name: str) -> EntityIR:
        try:
            return self._entities[name]
        except KeyError:
            raise ValueError(f"the IR has no entity {name!r}") from None

    def class_name(self, entity: str) -> str:
        return identifier(self.entity(entity).name)

    def column(self, entity: str, field: str) -> ColumnIR | None:
        """The column of a scalar field (refs are relations; passwords are never readable)."""
        for c in self.entity(entity).columns:
            if c.name == field and c.foreign_key is None and c.spec_type != "password":
                return c
        return None

    def relation(self, entity: str, field: str) -> RelationIR | None:
        for r in self.entity(entity).relations:
            if r.name == field:
                return r
        return None

    def fk_column(self, entity: str, relation: RelationIR) -> ColumnIR:
        for c in self.entity(entity).columns:
            if c.name == relation.fk_attribute:
                return c
        raise ValueError(f"{entity}.{relation.name} has no key column {relation.fk_attribute!r} in the IR")

    def back_reference(self, relation: RelationIR) -> str:
        """For a one-to-many relation: the key attribute on the target that points back."""
        via = relation.back_populates and self.relation(relation.target, relation.back_populates)
        if not via or via.kind != "many_to_one" or not via.fk_attribute:
            raise ValueError(f"the IR does not say which ref of {relation.target} backs {relation.name!r}")
        return identifier(via.fk_attribute)

    def link(self, relation: RelationIR) -> LinkSides:
        table = self._links.get(relation.link_table or "")
        if table is None:
            raise ValueError(f"the IR has no link table for {relation.name!r}")
        this, other = (
            (table.left_column, table.right_column) if relation.link_owner else (table.right_column, table.left_column)
        )
        return LinkSides(identifier(table.name), identifier(this), identifier(other))

    def reserved(self) -> set[str]:
        """Names the generated models module already defines (aliases must not shadow them)."""
        names = {e.name for e in self.ir.entities} | set(self._links)
        return names | {"sa", "decimal", "datetime", "uuid", "user", "record", "input", "_today", "_utcnow", "Base"}
