"""Invariants, compiled: each one enforced where it is cheapest and still exact.

A pass over a built IR (the compilers need the IR's names). In order of preference:

1. a database CHECK constraint, when SQL keeps the meaning (``compile/check_sql.py``):
   not even a bug in the app, or a hand-written script, can store a row that breaks it,
   and the app pays nothing; a violation is mapped to the invariant's 422;
2. a Python predicate over the row, checked before it is written (``today()`` on its own
   fields: no query);
3. a SQL condition evaluated against the written row inside the transaction (relations:
   ``record.assignee in record.project.members``), all of an entity's in one query.
"""

from __future__ import annotations

import dataclasses

from generator.checks.expressions import SpecSchemaView
from generator.compile import NotCompilable, computed_from_spec, to_python, to_sql
from generator.compile.check_sql import to_check_sql
from generator.expr.english import to_english
from generator.expr.types import BOOLEAN, Context
from generator.ir.nodes import AppIR, CheckIR, EntityIR, InvariantIR
from generator.model.spec import Spec
from generator.ir.typed import typed

__all__ = ["attach_invariants"]


def attach_invariants(ir: AppIR, spec: Spec, where, constraint_name) -> AppIR:  # type: ignore[no-untyped-def]
    view = SpecSchemaView(spec)
    computed = computed_from_spec(spec)
    user = ir.auth.user_entity if ir.auth else None
    entities = tuple(_entity(ir, spec, e, view, computed, user, where, constraint_name) for e in ir.entities)
    return dataclasses.replace(ir, entities=entities)


def _entity(ir: AppIR, spec: Spec, e: EntityIR, view, computed, user, where, constraint_name) -> EntityIR:  # type: ignore[no-untyped-def]
    declared = spec.entity(e.name).invariants
    if not declared:
        return e
    # Field name -> column: a ref field is stored as its key column.
    columns = {(c.name[:-3] if c.spec_type == "ref" else c.name): c for c in e.columns}
    invariants, checks = [], list(e.checks)
    for inv in declared:
        context = Context(record=e.name, user=user, input=None, where=f"the invariant {inv.name} of {e.name}")
        tree, _, types = typed(inv.check.text, view, context, BOOLEAN)
        source = where(inv.pointer)
        compiled = InvariantIR(inv.name, inv.message, inv.check.text, to_english(tree), source)
        check = to_check_sql(tree, columns)
        if check is not None:
            name = constraint_name("ck", e.table, ("invariant", inv.name))
            checks.append(CheckIR(name, check, source))
            compiled = dataclasses.replace(compiled, constraint=name)
        else:
            try:
                python = to_python(tree, types, ir, e.name, user_entity=user, computed=computed)
                compiled = dataclasses.replace(compiled, python=python)
            except NotCompilable:
                sql = to_sql(tree, types, ir, e.name, user_entity=user, computed=computed, as_value=True)
                compiled = dataclasses.replace(compiled, sql=sql)
        invariants.append(compiled)
    return dataclasses.replace(e, invariants=tuple(invariants), checks=tuple(checks))
