"""Computed fields, compiled: each one a SQL value selected with its record.

A pass over a built IR. Every computed field becomes a SQLAlchemy expression over
the model (relations as correlated subqueries, aggregates as scalar subqueries),
loaded into a ``query_expression`` attribute by the same query that loads the row,
so it costs no extra round trip and can be filtered and sorted on like a column.
An expression with no portable SQL (date arithmetic on a column) is computed in
Python from the loaded row instead, and cannot be filtered or sorted on.
Decimals are rounded on the wire with the declared mode; the filter compares the
exact value.
"""

from __future__ import annotations

import dataclasses

from generator.checks.expressions import SpecSchemaView
from generator.compile import NotCompilable, computed_from_spec, to_python, to_sql
from generator.expr.types import Context
from generator.ir.nodes import AppIR, ComputedIR, EntityIR
from generator.ir.types import decimal_pattern
from generator.model.spec import Spec
from generator.naming import camel
from generator.ir.typed import typed

__all__ = ["attach_computed"]

# Filters a computed field of each type accepts (the same as a stored field's).
_FILTER_OPS = {"boolean": ("eq",), "integer": ("eq", "in", "gt", "gte", "lt", "lte"),
               "decimal": ("eq", "gt", "gte", "lt", "lte"), "date": ("eq", "gt", "gte", "lt", "lte"),
               "datetime": ("gt", "gte", "lt", "lte"), "string": ("eq", "in", "contains")}
_PY_TYPES = {"boolean": "bool", "integer": "int", "decimal": "decimal.Decimal", "date": "datetime.date",
             "datetime": "datetime.datetime", "string": "str"}
_ROUNDING = {"half_even": "ROUND_HALF_EVEN", "half_up": "ROUND_HALF_UP", "down": "ROUND_DOWN", "up": "ROUND_UP"}


def attach_computed(ir: AppIR, spec: Spec, where) -> AppIR:  # type: ignore[no-untyped-def]
    view = SpecSchemaView(spec)
    computed = computed_from_spec(spec)
    user = ir.auth.user_entity if ir.auth else None
    entities = tuple(_entity(ir, spec, e, view, computed, user, where) for e in ir.entities)
    return dataclasses.replace(ir, entities=entities)


def _schema(c) -> dict:  # type: ignore[no-untyped-def]
    if c.type == "decimal":
        precision, scale = c.precision or 18, c.scale if c.scale is not None else 2
        schema = {"type": "string", "format": "decimal", "pattern": decimal_pattern(precision, scale)}
    else:
        schema = {"boolean": {"type": "boolean"}, "integer": {"type": "integer"}, "string": {"type": "string"},
                  "date": {"type": "string", "format": "date"},
                  "datetime": {"type": "string", "format": "date-time"}}[c.type]
    schema = {"anyOf": [schema, {"type": "null"}]} if c.type != "boolean" else schema
    schema["readOnly"] = True
    if c.description:
        schema["description"] = c.description
    return schema


def _entity(ir: AppIR, spec: Spec, e: EntityIR, view, computed, user, where) -> EntityIR:  # type: ignore[no-untyped-def]
    entity = spec.entity(e.name)
    if not entity.computed:
        return e
    filters = {r.name for r in entity.filters}
    sortable = {r.name for r in entity.sort}
    out = []
    for c in entity.computed:
        tree, _, types = typed(c.expr.text, view, Context(record=e.name, user=user))
        python = None
        try:
            sql = to_sql(tree, types, ir, e.name, user_entity=user, computed=computed, as_value=True)
        except NotCompilable:  # e.g. date arithmetic on a column: computed from the loaded row instead
            sql, python = None, to_python(tree, types, ir, e.name, user_entity=user, computed=computed)
        wire = camel(c.name) if ir.wire_names == "camelCase" else c.name
        in_sql = sql is not None  # only a value SQL computes can be filtered or sorted on
        out.append(ComputedIR(
            name=c.name, wire=wire, spec_type=c.type, py_type=_PY_TYPES.get(c.type, "Any"), sql=sql,
            json_schema=_schema(c), filter_ops=_FILTER_OPS.get(c.type, ()) if c.name in filters and in_sql else (),
            sortable=c.name in sortable and in_sql, python=python,
            scale=(c.scale if c.scale is not None else 2) if c.type == "decimal" else None,
            rounding=_ROUNDING.get(c.rounding, "ROUND_HALF_EVEN"), text=c.expr.text, source=where(c.pointer),
        ))
    return dataclasses.replace(e, computed=tuple(out))
