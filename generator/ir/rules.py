"""Permission rules, compiled: each allow/deny rule of each CRUD operation as SQLAlchemy source.

A second pass over a built IR (the compiler needs the IR's names). List and read
rules become one WHERE clause, so a list returns exactly what the user may see and
paginates correctly; update, delete and create rules are evaluated in SQL against
the row, each rule as its own column, so a refusal can name the rule that decided.
"""

from __future__ import annotations

import dataclasses

from generator.checks.expressions import SpecSchemaView
from generator.compile import computed_from_spec, to_sql
from generator.expr.english import to_english
from generator.expr.types import BOOLEAN, Context
from generator.ir.nodes import AppIR, EntityIR, OperationRulesIR, RuleIR
from generator.model.spec import Spec
from generator.ir.typed import typed

__all__ = ["attach_rules"]


def attach_rules(ir: AppIR, spec: Spec, where) -> AppIR:  # type: ignore[no-untyped-def]
    view = SpecSchemaView(spec)
    computed = computed_from_spec(spec)
    user = ir.auth.user_entity if ir.auth else None
    entities = tuple(
        dataclasses.replace(e, rules=tuple(_operation(ir, spec, e, op, view, computed, user, where)
                                           for op in e.operations))
        for e in ir.entities
    )
    return dataclasses.replace(ir, entities=entities)


def _operation(ir: AppIR, spec: Spec, e: EntityIR, op: str, view, computed, user, where) -> OperationRulesIR:
    entity = spec.entity(e.name)
    rule_set = entity.permissions.get(op)
    access = dict(e.access)[op]
    if rule_set is None or access != "authenticated":
        return OperationRulesIR(op, access, ())
    rules = []
    for index, rule in enumerate(rule_set.rules):
        context = Context(record=e.name, user=user, input=None, where=f"the {op} permission of {e.name}")
        tree, _, types = typed(rule.expr.text, view, context, BOOLEAN)
        sql = to_sql(tree, types, ir, e.name, user_entity=user, computed=computed)
        rules.append(RuleIR(
            id=rule.id or f"{e.name}.{op}.{index + 1}",
            effect=rule.effect,
            sql=sql,
            text=rule.expr.text,
            english=to_english(tree),
            source=where(rule.pointer),
        ))
    return OperationRulesIR(op, access, tuple(rules))
