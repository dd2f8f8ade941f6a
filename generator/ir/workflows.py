"""Workflows, actions and named queries, compiled: every guard, permission, effect and filter.

A pass over a built IR (the compilers need the IR's names). Nothing of the spec's
text reaches generated code except through ``to_sql``/``to_python`` (identifiers
the IR validated, literals made by ``repr()``) and comments.

* A transition or action becomes a ``CommandIR``: its permission compiled like
  the CRUD rules (``roles`` become one more rule), its guard and approval
  conditions compiled to SQL over the model, its effects to Python values (or SQL
  when they need the database), its input to column-like fields.
* ``approvals.exclude`` becomes the condition "the current user is excluded":
  ``user == (<exclude>)`` or ``user in (<exclude>)``; without ``exclude`` it is the
  record's creator (a ref to the user with ``auto: current_user``), if there is one.
* A named query's ``where`` is a SQL condition; the router adds the list rule.
"""

from __future__ import annotations

import dataclasses

from generator.checks.expressions import SpecSchemaView, field_info
from generator.compile import NotCompilable, computed_from_spec, to_python, to_sql
from generator.expr.english import to_english
from generator.expr.types import BOOLEAN, Context, ListType
from generator.ir.nodes import (
    AppIR, ApprovalsIR, ApprovalStepIR, ColumnIR, CommandIR, ConditionIR, EffectIR, EntityIR, ForeignKeyIR, FrozenIR,
    OrderIR,
    QueryIR, RuleIR, WorkflowIR,
)
from generator.ir.types import id_storage
from generator.model.spec import Entity, Field, RuleSet, Spec
from generator.naming import table_name, wire_name
from generator.ir.typed import typed

__all__ = ["attach_workflows"]


class _Compiler:
    def __init__(self, ir: AppIR, spec: Spec, where) -> None:  # type: ignore[no-untyped-def]
        self.ir, self.spec, self.where = ir, spec, where
        self.view = SpecSchemaView(spec)
        self.computed = computed_from_spec(spec)
        self.user = ir.auth.user_entity if ir.auth else None

    def _check(self, text: str, entity: str, inputs: dict | None, expected=None):  # type: ignore[no-untyped-def]
        return typed(text, self.view, Context(record=entity, user=self.user, input=inputs, where="compiling"),
                     expected)

    def condition(self, ident: str, text: str, pointer: str, entity: str, inputs: dict | None) -> ConditionIR:
        tree, _, types = self._check(text, entity, inputs, BOOLEAN)
        sql = to_sql(tree, types, self.ir, entity, user_entity=self.user, input_fields=inputs,
                     computed=self.computed)
        return ConditionIR(ident, sql, text, to_english(tree), self.where(pointer), "input" in _roots(tree))

    def rules(self, prefix: str, rule_set: RuleSet | None, entity: str, inputs: dict | None) -> list[RuleIR]:
        out = []
        for index, rule in enumerate(rule_set.rules if rule_set else ()):
            c = self.condition(rule.id or f"{prefix}.{index + 1}", rule.expr.text, rule.pointer, entity, inputs)
            out.append(RuleIR(c.id, rule.effect, c.sql, c.text, c.english, c.source))
        return out

    def value(self, text: str, entity: str, inputs: dict | None) -> tuple[str, bool]:
        tree, _, types = self._check(text, entity, inputs)
        try:
            return to_python(tree, types, self.ir, entity, user_entity=self.user, input_fields=inputs,
                             computed=self.computed), False
        except NotCompilable:
            return to_sql(tree, types, self.ir, entity, user_entity=self.user, input_fields=inputs,
                          computed=self.computed, as_value=True), True


def _roots(tree) -> set[str]:  # type: ignore[no-untyped-def]
    from generator.expr.nodes import Binary, Call, ListLiteral, Path, Unary

    out: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Path):
            out.add(node.root)
        elif isinstance(node, Binary):
            stack += [node.left, node.right]
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Call):
            stack += list(node.args)
        elif isinstance(node, ListLiteral):
            stack += list(node.items)
    return out


def attach_workflows(ir: AppIR, spec: Spec, where) -> AppIR:  # type: ignore[no-untyped-def]
    c = _Compiler(ir, spec, where)
    entities = tuple(_entity(c, e, spec.entity(e.name)) for e in ir.entities)
    return dataclasses.replace(ir, entities=entities)


def _entity(c: _Compiler, e: EntityIR, entity: Entity) -> EntityIR:
    paths = {(ep.kind, ep.name): ep for ep in e.endpoints}
    actions = tuple(_command(c, e, entity, "action", a, paths[("action", a.name)]) for a in entity.actions)
    queries = tuple(_query(c, e, entity, q, paths[("query", q.name)]) for q in entity.queries)
    workflow = None
    wf = entity.workflow
    if wf is not None:
        states = tuple(s.name for s in wf.states)
        workflow = WorkflowIR(
            field=wf.field,
            states=states,
            initial=wf.initial.name,
            final=tuple(s.name for s in wf.final),
            transitions=tuple(_command(c, e, entity, "transition", t, paths[("transition", t.name)], states)
                              for t in wf.transitions),
            frozen=tuple(_frozen(c, e, entity, fz) for fz in wf.frozen),
            source=c.where(wf.pointer),
        )
    return dataclasses.replace(e, workflow=workflow, actions=actions, queries=queries)


def _input_column(c: _Compiler, f: Field) -> ColumnIR:
    """An input field as a column-like node: ``name`` is the input's own name (refs hold the id)."""
    from generator.ir.build import _scalar_column  # the one place column nodes are decided

    wires = c.spec.api.wire_names
    if f.type == "ref":
        target = c.spec.entity(f.to.name)
        storage = id_storage(target.id_strategy)
        schema = dict(storage.json_schema)
        if f.description:
            schema["description"] = f.description
        return ColumnIR(f.name, f.name, wire_name(f.name, wires), "ref", storage.sa_type, storage.py_type, schema,
                        nullable=not f.required, on_create=True, required_on_create=f.required,
                        foreign_key=ForeignKeyIR(target.name, table_name(target.name, target.plural, target.table),
                                                 "id", "RESTRICT"),
                        description=f.description, source=c.where(f.pointer))
    column = _scalar_column(None, f, set(), set(), wires, c.where)  # type: ignore[arg-type]
    return dataclasses.replace(column, name=f.name, column=f.name)


def _command(c: _Compiler, e: EntityIR, entity: Entity, kind: str, node, endpoint,  # type: ignore[no-untyped-def]
             states: tuple[str, ...] = ()) -> CommandIR:
    inputs = {f.name: field_info(f) for f in node.input} if node.input else None
    prefix = f"{e.name}.{node.name}"
    rules = c.rules(prefix, node.permission, e.name, inputs)
    roles: tuple[str, ...] = tuple(r.name for r in getattr(node, "roles", ()))
    if roles:
        listed = ", ".join(repr(r) for r in roles)
        ok = f"(sa.true() if user is not None and user.role in ({listed},) else sa.false())"
        words = " or ".join(roles)
        if rules:  # both must hold: the role restriction is a deny rule beside the permission's rules
            rules.append(RuleIR(f"{prefix}.roles", "deny", f"sa.not_({ok})", f"roles: [{', '.join(roles)}]",
                                f"the current user's role is not {words}", c.where(node.pointer)))
        else:
            rules.append(RuleIR(f"{prefix}.roles", "allow", ok, f"roles: [{', '.join(roles)}]",
                                f"the current user's role is {words}", c.where(node.pointer)))
    guard = None
    if node.guard is not None:
        guard = c.condition(f"{prefix}.guard", node.guard.text, node.guard.pointer, e.name, inputs)
    effects = tuple(_effect(c, e, entity, eff, inputs) for eff in node.effects)
    approvals = None
    if getattr(node, "approvals", None) is not None:
        approvals = _approvals(c, e, entity, prefix, node.approvals)
    elif not rules:
        # Deny by default: no permission, roles or approval steps means nobody may do it (K951 warns).
        rules.append(RuleIR(prefix, "allow", "sa.false()", "(no permission declared)", "nobody",
                            c.where(node.pointer)))
    if kind == "transition":
        sources = states if any(s.name == "*" for s in node.sources) else tuple(s.name for s in node.sources)
        target = node.target.name
    else:
        sources, target = (), None
    frozen_names = {f.name for fz in (entity.workflow.frozen if entity.workflow else ()) for f in fz.fields}
    touched = tuple(sorted({eff.target.name for eff in node.effects} & frozen_names))
    return CommandIR(
        kind=kind,
        name=node.name,
        method=endpoint.method,
        path=endpoint.path,
        operation_id=endpoint.operation_id,
        description=node.description or "",
        sources=sources,
        target=target,
        roles=roles,
        rules=tuple(rules),
        guard=guard,
        input=tuple(_input_column(c, f) for f in node.input),
        effects=effects,
        approvals=approvals,
        frozen=touched,
        source=c.where(node.pointer),
    )


def _effect(c: _Compiler, e: EntityIR, entity: Entity, eff, inputs: dict | None) -> EffectIR:  # type: ignore[no-untyped-def]
    value, is_sql = c.value(eff.value.text, e.name, inputs)
    target = entity.field(eff.target.name)
    text = f"{eff.kind}: {{{eff.target.name}: {eff.value.text}}}"
    source = c.where(eff.value.pointer)
    if eff.kind == "set":
        attr = f"{target.name}_id" if target.type == "ref" else target.name
        return EffectIR("set", attr, value, is_sql, text, source)
    relation = next(r for r in e.relations if r.name == target.name)
    link = next(t for t in c.ir.link_tables if t.name == relation.link_table)
    this, other = ((link.left_column, link.right_column) if relation.link_owner
                   else (link.right_column, link.left_column))
    return EffectIR(eff.kind, target.name, value, is_sql, text, source, link.name, this, other)


def _approvals(c: _Compiler, e: EntityIR, entity: Entity, prefix: str, approvals) -> ApprovalsIR:  # type: ignore[no-untyped-def]
    steps = []
    for index, step in enumerate(approvals.steps):
        when = None
        if step.when is not None:
            when = c.condition(f"{prefix}.step{index + 1}.when", step.when.text, step.when.pointer, e.name, None)
        steps.append(ApprovalStepIR(index, step.role.name, when))
    exclude = None
    text, pointer = None, approvals.pointer
    if approvals.exclude is not None:
        text, pointer = approvals.exclude.text, approvals.exclude.pointer
    else:
        creator = next((f for f in entity.fields if f.type == "ref" and f.auto == "current_user"), None)
        if creator is not None:
            text = f"record.{creator.name}"
    if text is not None:
        _, t, _ = c._check(text, e.name, None)
        condition = f"user in ({text})" if isinstance(t, ListType) else f"user == ({text})"
        compiled = c.condition(f"{prefix}.exclude", condition, pointer, e.name, None)
        exclude = dataclasses.replace(compiled, text=text)
    return ApprovalsIR(tuple(steps), exclude, approvals.distinct, c.where(approvals.pointer))


def _query(c: _Compiler, e: EntityIR, entity: Entity, q, endpoint) -> QueryIR:  # type: ignore[no-untyped-def]
    where = c.condition(f"{e.name}.{q.name}", q.where.text, q.where.pointer, e.name, None)
    attrs = {col.name for col in e.columns}
    order = []
    for ref in q.sort:
        name = ref.name.lstrip("-")
        attr = f"{name}_id" if f"{name}_id" in attrs and name not in attrs else name
        order.append(OrderIR(attr, ref.name.startswith("-")))
    if all(o.column != "id" for o in order):
        order.append(OrderIR("id", False))  # a unique tie-breaker keeps keyset pagination exact
    return QueryIR(q.name, endpoint.path, endpoint.operation_id, q.description or "", where, tuple(order),
                   c.where(q.pointer))


def _frozen(c: _Compiler, e: EntityIR, entity: Entity, fz) -> FrozenIR:  # type: ignore[no-untyped-def]
    columns, children, relations = [], [], []
    for ref in fz.fields:
        f = entity.field(ref.name)
        if f is None:
            continue
        if f.type == "has_many":
            relation = next(r for r in e.relations if r.name == f.name)
            child = next(x for x in c.ir.entities if x.name == relation.target)
            fk = next(r.fk_attribute for r in child.relations if r.name == relation.back_populates)
            children.append((child.name, fk, f.name))
        elif f.type == "many":
            relations.append(f.name)
        else:
            columns.append(f"{f.name}_id" if f.type == "ref" else f.name)
    text = f"in: [{', '.join(s.name for s in fz.states)}], fields: [{', '.join(r.name for r in fz.fields)}]"
    if fz.return_to is not None:
        text += f", return_to: {fz.return_to.name}"
    return FrozenIR(tuple(s.name for s in fz.states), tuple(columns), tuple(children), tuple(relations),
                    fz.return_to.name if fz.return_to else None, text, c.where(fz.pointer))
