"""The order tables must be created in, and the foreign keys that close a cycle.

Shared by the models (cycle-closing keys get ``use_alter=True``) and the initial
migration (which adds those keys after every table exists), so both agree.
"""

from __future__ import annotations

from generator.ir.nodes import AppIR, EntityIR


def creation_order(ir: AppIR) -> tuple[list[EntityIR], set[tuple[str, str]]]:
    """Entities in an order where each comes after the tables it references (a stable topological
    sort, spec order among equals), and the (table, column) foreign keys that close a cycle."""
    refs = {
        e.table: {c.column: c.foreign_key.target_table for c in e.columns
                  if c.foreign_key is not None and c.foreign_key.target_table != e.table}
        for e in ir.entities
    }
    remaining = list(ir.entities)
    placed: set[str] = set()
    ordered: list[EntityIR] = []
    deferred: set[tuple[str, str]] = set()
    while remaining:
        ready = next((e for e in remaining if set(refs[e.table].values()) <= placed), None)
        if ready is None:  # every remaining table waits for another: a cycle; break it at the first
            ready = remaining[0]
            deferred |= {(ready.table, col) for col, target in refs[ready.table].items() if target not in placed}
        remaining.remove(ready)
        placed.add(ready.table)
        ordered.append(ready)
    return ordered, deferred
