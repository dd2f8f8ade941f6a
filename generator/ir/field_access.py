"""Field access rules, compiled: who may see or set one field of a record.

A pass over a built IR. Each rule becomes a Python predicate over the signed-in
``user`` and the loaded ``record``, evaluated where the row is serialised (read) or
before a change is applied (write): no query. A rule that needs the database
(it follows a relation) cannot be decided on the loaded row; the field is then
hidden from, and refused to, everyone (deny by default), and the IR says so.
"""

from __future__ import annotations

import dataclasses

from generator.checks.expressions import SpecSchemaView
from generator.compile import NotCompilable, computed_from_spec, to_python
from generator.expr.english import to_english
from generator.expr.types import BOOLEAN, Context
from generator.ir.nodes import AppIR, EntityIR, FieldRuleIR
from generator.model.spec import Spec
from generator.ir.typed import typed

__all__ = ["attach_field_access"]


def attach_field_access(ir: AppIR, spec: Spec, where) -> AppIR:  # type: ignore[no-untyped-def]
    view = SpecSchemaView(spec)
    computed = computed_from_spec(spec)
    user = ir.auth.user_entity if ir.auth else None
    entities = tuple(_entity(ir, spec, e, view, computed, user, where) for e in ir.entities)
    return dataclasses.replace(ir, entities=entities)


def _entity(ir: AppIR, spec: Spec, e: EntityIR, view, computed, user, where) -> EntityIR:  # type: ignore[no-untyped-def]
    rules = []
    for f in spec.entity(e.name).fields:
        for op, rule_set in (("read", f.access_read), ("write", f.access_write)):
            if rule_set is None:
                continue
            column = next((c for c in e.columns if c.name in (f.name, f"{f.name}_id")), None)
            if column is None:
                continue
            texts = [(r.effect, r.expr.text) for r in rule_set.rules]
            # One predicate: some allow rule holds and no deny rule does.
            allows = " or ".join(f"({t})" for effect, t in texts if effect == "allow") or "false"
            denies = " or ".join(f"({t})" for effect, t in texts if effect == "deny")
            text = f"({allows}) and not ({denies})" if denies else allows
            context = Context(record=e.name, user=user, input=None, where=f"the {op} access of {e.name}.{f.name}")
            tree, _, types = typed(text, view, context, BOOLEAN)
            try:
                python = to_python(tree, types, ir, e.name, user_entity=user, computed=computed)
            except NotCompilable:
                python = None
            shown = " / ".join(t for _, t in texts) if len(texts) > 1 else texts[0][1]
            rules.append(FieldRuleIR(column.name, column.wire, op, f"{e.name}.{f.name}.{op}", shown,
                                     to_english(tree), where(rule_set.rules[0].pointer), python, tuple(texts)))
    return dataclasses.replace(e, field_rules=tuple(rules)) if rules else e
