"""Mermaid diagrams of a spec: an ``erDiagram`` of its entities and a ``stateDiagram-v2`` per workflow.

Pure functions of the IR, deterministic (entities, fields and transitions in spec order). Every
name written into Mermaid is checked to be an identifier (``MermaidNameError`` otherwise: the IR
validated them, so that is a Keel bug, never silently mangled output); free text (labels, notes,
comments) is reduced to a safe character set and quoted where Mermaid quotes. Printed by
``keel diagram`` and written into every generated app's ``docs/diagrams.md``.

Cardinalities (Mermaid crow's feet, "one side" on the left):

* a ``ref`` (many-to-one): ``Project ||--o{ Task`` when required, ``User |o--o{ Task`` when optional;
  its ``has_many`` inverse is the same line (the label names both fields);
* a ``many`` (many-to-many): ``Project }o--o{ User``, once, from the side that owns the link table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.ir.nodes import AppIR, ColumnIR, EntityIR

__all__ = ["Diagram", "MermaidNameError", "diagrams", "er_diagram", "render_markdown", "state_diagrams"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,:()'+<>=!/-]")  # everything else is dropped from free text
_KEY_TYPES = {"Uuid": "uuid", "Integer": "integer", "BigInteger": "integer", "String": "string"}


class MermaidNameError(ValueError):
    """A name that is not an identifier was about to be written into a diagram."""


@dataclass(frozen=True, slots=True)
class Diagram:
    kind: str  # er | state
    name: str  # the app (er of everything) or the entity
    title: str
    mermaid: str  # the diagram's source, without fences, ending in a newline


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise MermaidNameError(f"not an identifier, refusing to put it in a Mermaid diagram: {name!r}")
    return name


def _text(text: str, limit: int = 120) -> str:
    """Free text for a label, note or comment: one line, safe characters only, no quotes."""
    cleaned = " ".join(_UNSAFE.sub(" ", text.replace('"', "'")).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3].rstrip() + "..."


def _entity(name: str) -> str:
    """An entity, quoted: Mermaid's ER lexer takes words like ``Style``, ``End`` or ``One`` as keywords."""
    return f'"{_ident(name)}"'


def _attribute_name(name: str) -> tuple[str, str | None]:
    """Mermaid reads ``pk``/``fk``/``uk`` (any case) as key markers: such a field is written ``pk_``."""
    if _ident(name).lower() in ("pk", "fk", "uk"):
        return f"{name}_", f"field {name}"
    return name, None


def _type(c: ColumnIR) -> str:
    if c.spec_type in ("ref", "id"):
        base = c.sa_type.split("(")[0]
        return _KEY_TYPES.get(base, "key")
    return _ident(c.spec_type)


def _attributes(e: EntityIR) -> list[str]:
    composite = {col: uc for uc in e.unique_constraints for col in uc.columns if len(uc.columns) > 1}
    lines = []
    for c in e.columns:
        keys = [k for k, on in (("PK", c.primary_key), ("FK", c.foreign_key is not None), ("UK", c.unique)) if on]
        name, renamed = _attribute_name(c.name)
        comment = [renamed] if renamed else []
        if c.nullable:
            comment.append("optional")
        if c.name in composite:
            comment.append("unique with " + ", ".join(x for x in composite[c.name].columns if x != c.name))
        if c.server_value == "state" and e.workflow is not None:
            comment.append("workflow state")
        if not c.readable:
            comment.append("never shown")
        line = f"        {_type(c)} {name}"
        if keys:
            line += " " + ", ".join(keys)
        if comment:
            line += f' "{_text("; ".join(comment))}"'
        lines.append(line)
    for computed in e.computed:
        name, renamed = _attribute_name(computed.name)
        lines.append(f'        {_ident(computed.spec_type)} {name} "{_text(", ".join(filter(None, [renamed, "computed"])))}"')
    return lines


def _relationships(ir: AppIR, entities: set[str]) -> list[tuple[str, str]]:
    """(line, the two entities) for each relationship touching ``entities``, each relation once."""
    out = []
    for e in ir.entities:
        for r in e.relations:
            if r.kind == "many_to_one":
                column = next(c for c in e.columns if c.name == r.fk_attribute)
                one = "|o" if column.nullable else "||"
                label = r.name + (f" / {r.back_populates}" if r.back_populates else "")
                line = f'    {_entity(r.target)} {one}--o{{ {_entity(e.name)} : "{_text(label)}"'
            elif r.kind == "many_to_many" and r.link_owner:
                label = r.name + (f" / {r.back_populates}" if r.back_populates else "")
                line = f'    {_entity(e.name)} }}o--o{{ {_entity(r.target)} : "{_text(label)}"'
            else:
                continue
            if e.name in entities or r.target in entities:
                out.append((line, f"{e.name} {r.target}"))
    return out


def er_diagram(ir: AppIR, entity: str | None = None) -> Diagram:
    """Every entity with its fields, or one entity with its fields and the entities it relates to."""
    chosen = [e for e in ir.entities if entity is None or e.name == entity]
    names = {e.name for e in chosen}
    relationships = _relationships(ir, names)
    lines = ["erDiagram"]
    for e in chosen:
        lines.append(f"    {_entity(e.name)} {{")
        lines += _attributes(e)
        lines.append("    }")
    lines += [line for line, _ in relationships]
    title = f"{ir.title}: entities" if entity is None else f"{entity} and its relations"
    return Diagram("er", entity or ir.name, title, "\n".join(lines) + "\n")


def _state_id(state: str) -> str:
    return "s_" + _ident(state)


def state_diagram(e: EntityIR) -> Diagram:
    wf = e.workflow
    assert wf is not None
    lines = ["stateDiagram-v2", "    direction LR"]
    for state in wf.states:
        lines.append(f'    state "{_text(state)}" as {_state_id(state)}')
    lines.append(f"    [*] --> {_state_id(wf.initial)}")
    for t in wf.transitions:
        label = _ident(t.name)
        if t.approvals is not None:
            label += " (approvals)"
        for source in t.sources:
            lines.append(f"    {_state_id(source)} --> {_state_id(t.target or source)} : {_text(label)}")
    for state in wf.final:
        lines.append(f"    {_state_id(state)} --> [*]")
    for t in wf.transitions:
        if t.approvals is None:
            continue
        steps = [s.role + (f" when {s.when.text}" if s.when else "") for s in t.approvals.steps]
        note = f"{t.name} needs approvals: " + ", ".join(steps)
        extra = []
        if t.approvals.distinct:
            extra.append("each by a different person")
        if t.approvals.exclude is not None:
            extra.append(f"never by {t.approvals.exclude.text}")
        lines += [f"    note right of {_state_id(t.target or wf.initial)}", f"        {_text(note)}"]
        if extra:
            lines.append(f"        {_text(', '.join(extra))}")
        lines.append("    end note")
    return Diagram("state", e.name, f"{e.name}: {wf.field} workflow", "\n".join(lines) + "\n")


def state_diagrams(ir: AppIR, entity: str | None = None) -> list[Diagram]:
    return [state_diagram(e) for e in ir.entities if e.workflow is not None and entity in (None, e.name)]


def diagrams(ir: AppIR, kind: str | None = None, entity: str | None = None) -> list[Diagram]:
    """The ER diagram then the state diagrams (``kind``: er | state | None for both)."""
    out = []
    if kind in (None, "er"):
        out.append(er_diagram(ir, entity))
    if kind in (None, "state"):
        out += state_diagrams(ir, entity)
    return out


def render_markdown(items: list[Diagram], heading: str = "##") -> str:
    """Each diagram under a heading, in a ```mermaid fence (GitHub, GitLab and most viewers draw it)."""
    parts = []
    for d in items:
        parts.append(f"{heading} {_text(d.title)}\n\n```mermaid\n{d.mermaid}```\n")
    return "\n".join(parts)
