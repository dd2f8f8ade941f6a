"""Compile type-checked expressions into Python source for the generated app.

Two targets, one semantics (stated in ``compiler.py``):

    to_sql(expr, types, ir, "Task", user_entity="User")
        -> 'sa.and_(Task.due_date.is_not(None), Task.due_date < _today(), Task.status != "done")'
    to_python(expr, types, ir, "Event")
        -> 'record.ends_on is None or record.ends_on >= record.starts_on'

``to_sql`` gives a SQLAlchemy 2 expression over the entity's model class for a
``WHERE`` clause (one statement: relations become correlated subqueries).
``to_python`` gives a predicate over loaded values and raises ``NotCompilable``
when the expression needs the database. The source names only identifiers
from the IR and these, which the generated module must provide: ``sa``
(``import sqlalchemy as sa``, with ``sqlalchemy.orm`` imported), ``decimal``,
``datetime``, ``_today``, ``_utcnow`` (the models module defines both), the
models module's classes and link tables, and the bound values ``user`` (None or
the current user), ``input`` (the request input; a ref field holds the id) and,
for ``to_python``, ``record``. ``free_names`` lists the ones a source uses.
Spec text appears only inside string literals made by ``repr()``.
"""

from __future__ import annotations

import ast
from typing import Mapping

from generator.compile.compiler import Computed, compile_python, compile_sql
from generator.compile.computed import computed_from_spec
from generator.compile.errors import NotCompilable
from generator.expr.nodes import Expr
from generator.expr.types import FieldInfo, Type
from generator.ir.nodes import AppIR

__all__ = ["Computed", "NotCompilable", "computed_from_spec", "free_names", "to_python", "to_sql"]


def to_sql(expr: Expr, types: Mapping[int, Type], ir: AppIR, entity: str, *, user_entity: str | None = None,
           input_fields: Mapping[str, FieldInfo] | None = None,
           computed: Mapping[tuple[str, str], Computed] | None = None, as_value: bool = False) -> str:  # fmt: skip
    """Python source of a SQLAlchemy expression for ``expr`` over the model of ``entity``.

    ``types`` is the third result of ``generator.expr.check``. ``user_entity`` is
    the auth user entity (needed when the expression reads ``user.<field>``);
    ``input_fields`` the request input's fields (needed to follow ``input.<ref>``);
    ``computed`` the computed fields to inline (``computed_from_spec``). A boolean
    expression gives a condition for ``WHERE``, where NULL means false; with
    ``as_value=True`` it is wrapped in ``coalesce(..., false)`` so it can be selected
    or compared. Other expressions give a value (a scalar subquery for aggregates).
    Raises ``NotCompilable`` for date arithmetic on a column, which has no portable SQL.
    """
    return compile_sql(expr, types, ir, entity, user_entity=user_entity, input_fields=input_fields,
                       computed=computed, as_value=as_value)  # fmt: skip


def to_python(expr: Expr, types: Mapping[int, Type], ir: AppIR, entity: str | None = None, *,
              user_entity: str | None = None, input_fields: Mapping[str, FieldInfo] | None = None,
              computed: Mapping[tuple[str, str], Computed] | None = None) -> str:  # fmt: skip
    """Python source of ``expr`` over loaded values: ``record`` and ``user`` objects, ``input``.

    A ref reads the key attribute (``record.assignee`` is ``record.assignee_id``);
    entities compare by id. Raises ``NotCompilable`` when the expression follows a
    relation past a ref's id or aggregates a list: compile those with ``to_sql``.
    """
    return compile_python(expr, types, ir, entity, user_entity=user_entity, input_fields=input_fields,
                          computed=computed)  # fmt: skip


def free_names(*sources: str) -> set[str]:
    """The global names compiled sources read (to decide imports; lambda parameters excluded)."""
    names: set[str] = set()
    for source in sources:
        tree = ast.parse(source, mode="eval")
        bound = {a.arg for node in ast.walk(tree) if isinstance(node, ast.Lambda) for a in node.args.args}
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in bound}
    return names
