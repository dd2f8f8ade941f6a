"""Parse and type-check every expression in the spec, in the context where it appears.

Each place an expression can stand decides which roots it may use (a list
permission sees ``user`` and ``record``; an action's effect also sees ``input``;
an invariant, which must hold whoever writes, sees no ``user``) and what type it
must have (a condition is boolean; a computed field has its declared type; an
effect's value fits its target field). Errors point inside the expression.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from generator.checks.context import CheckContext, article
from generator.expr import check as typecheck
from generator.expr import parse
from generator.expr.nodes import Binary, Call, Expr, ListLiteral, Literal, Unary
from generator.expr.types import (
    BOOLEAN, Context, EntityType, EnumType, FieldInfo, ListType, Scalar, Type, Unknown, describe,
)
from generator.model.spec import Entity, Expression, Field, RuleSet, Spec

_SCALAR_OF_COMPUTED = {"string": "string", "integer": "integer", "decimal": "decimal", "boolean": "boolean",
                       "date": "date", "datetime": "datetime"}


class SpecSchemaView:
    """The spec model as the type checker sees it: fields, relations and computed fields."""

    def __init__(self, spec: Spec) -> None:
        self._entities = {e.name: e for e in spec.entities}

    def entity_names(self) -> list[str]:
        return list(self._entities)

    def field(self, entity: str, name: str) -> FieldInfo | None:
        e = self._entities.get(entity)
        if e is None:
            return None
        f = e.field(name)
        if f is not None:
            if f.is_relation and (f.to is None or f.to.name not in self._entities):
                # Already reported as an unknown entity (K310); type it Unknown so it does not cascade.
                return FieldInfo(f.name, "scalar", scalar="unknown", nullable=True)
            return field_info(f)
        c = e.computed_field(name)
        if c is not None:
            return FieldInfo(c.name, "scalar", scalar=c.type, nullable=True)
        return None

    def field_names(self, entity: str) -> list[str]:
        e = self._entities.get(entity)
        if e is None:
            return []
        return [f.name for f in e.fields] + [c.name for c in e.computed]


def field_info(f: Field) -> FieldInfo:
    if f.is_relation:
        return FieldInfo(f.name, f.type, target=f.to.name if f.to else None, nullable=not f.required)
    return FieldInfo(f.name, "scalar", scalar=f.type, enum_values=f.values, nullable=not f.required)


# Used when the expression checker has no more specific advice for an error.
_DEFAULT_HINTS = {
    "K501": "see the expression syntax in docs/spec-language.md#expressions",
    "K502": "both sides of an operator need compatible types; see docs/spec-language.md#expressions",
    "K503": "paths start at `user`, `record` or `input` and follow declared fields",
    "K504": "see which names each kind of rule can use in docs/spec-language.md#expressions",
    "K505": "write a comparison, e.g. `record.status == 'done'`",
}


class _ExpressionChecker:
    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.view = SpecSchemaView(ctx.spec)
        self.user = ctx.spec.auth.user.name if ctx.spec.auth and ctx.spec.entity(ctx.spec.auth.user.name) else None
        self.string_literals: set[str] = set()

    def run(self, expr: Expression, context: Context, expected: Type | None = None) -> Type | None:
        """Type of the expression, or None if it did not parse/check cleanly."""
        tree, errors = parse(expr.text)
        for err in errors:
            self._report(expr, err)
        if tree is None:
            return None
        self.string_literals.update(_string_literals(tree))
        t, errors, _types = typecheck(tree, self.view, context, expected)
        for err in errors:
            self._report(expr, err)
        return None if errors else t

    def _report(self, expr: Expression, err) -> None:
        hint = err.hint or _DEFAULT_HINTS.get(err.code)
        self.ctx.report_span(err.code, err.message, expr.pointer, err.start, err.end, hint)

    def rules(self, rules: RuleSet | None, context: Context) -> None:
        if rules is None:
            return
        for rule in rules.rules:
            self.run(rule.expr, context, BOOLEAN)

    def context(self, where: str, record: str | None = None, input_fields: Iterable[Field] | None = None,
                no_user_reason: str | None = None) -> Context:
        inputs = {f.name: field_info(f) for f in input_fields} if input_fields is not None else None
        if no_user_reason is not None:
            return Context(record=record, user=None, input=inputs, where=where, no_user_reason=no_user_reason)
        return Context(record=record, user=self.user, input=inputs, where=where)


def check_expressions(ctx: CheckContext) -> set[str]:
    """Check every expression; returns the string literals seen (to tell which roles are used)."""
    checker = _ExpressionChecker(ctx)
    for entity in ctx.spec.entities:
        _check_entity(checker, entity)
    return checker.string_literals


def _check_entity(ch: _ExpressionChecker, entity: Entity) -> None:
    name = entity.name
    for op, rules in entity.permissions.items():
        ch.rules(rules, ch.context(f"the {op} permission of {name}", record=name))
    for f in entity.fields:
        ch.rules(f.access_read, ch.context(f"the read access of {name}.{f.name}", record=name))
        ch.rules(f.access_write, ch.context(f"the write access of {name}.{f.name}", record=name))
    for c in entity.computed:
        t = ch.run(c.expr, ch.context(f"the computed field {name}.{c.name}", record=name))
        want = Scalar(_SCALAR_OF_COMPUTED[c.type])
        if t is not None and not _fits(want, t):
            ch.ctx.report("K509", f"`{c.name}` is declared {c.type} but its expression is {describe(t)}",
                          c.expr.pointer, hint=f"change `type:` to match, or the expression")
    for inv in entity.invariants:
        ch.run(inv.check, ch.context(f"the invariant {inv.name}", record=name, no_user_reason=(
            "an invariant must hold whoever writes the record, so it cannot depend on the current user; "
            "put user-dependent conditions in `permissions`")), BOOLEAN)
    for q in entity.queries:
        ch.run(q.where, ch.context(f"the query {q.name}", record=name), BOOLEAN)
    for a in entity.actions:
        here = ch.context(f"the action {a.name}", record=name, input_fields=a.input)
        ch.rules(a.permission, here)
        if a.guard is not None:
            ch.run(a.guard, here, BOOLEAN)
        _check_effects(ch, entity, a.effects, here,
                       state_field=entity.workflow.field if entity.workflow is not None else None)
    for n in entity.notifications:
        _check_notification(ch, entity, n)
    if entity.workflow is not None:
        for t in entity.workflow.transitions:
            here = ch.context(f"the transition {t.name}", record=name, input_fields=t.input)
            ch.rules(t.permission, here)
            if t.guard is not None:
                ch.run(t.guard, here, BOOLEAN)
            _check_effects(ch, entity, t.effects, here, state_field=entity.workflow.field)
            if t.approvals is not None:
                for step in t.approvals.steps:
                    if step.when is not None:
                        ch.run(step.when, ch.context(f"an approval step of {t.name}", record=name), BOOLEAN)
                if t.approvals.exclude is not None:
                    got = ch.run(t.approvals.exclude, ch.context(f"the approvers excluded from {t.name}", record=name))
                    if got is not None and not _is_users(got, ch.user):
                        ch.ctx.report("K508", f"`exclude` must name users, not {describe(got)}",
                                      t.approvals.exclude.pointer, hint="e.g. `exclude: record.submitter`")


def _check_effects(ch: _ExpressionChecker, entity: Entity, effects, here: Context, state_field: str | None = None):
    for eff in effects:
        target = entity.field(eff.target.name)
        if target is None:
            ch.run(eff.value, here)  # the unknown target is reported by the reference checks
            continue
        if eff.kind == "set":
            if target.synthesized or target.name == state_field:
                why = ("the state only changes through transitions" if target.name == state_field
                       else "Keel manages this field")
                ch.ctx.report("K511", f"an effect cannot set `{target.name}`: {why}", eff.target.pointer,
                              at_key=True, hint="remove this effect")
                continue
            if target.type in ("many", "has_many"):
                ch.ctx.report("K511", f"`set` cannot replace the {target.type} relation `{target.name}`",
                              eff.target.pointer, at_key=True, hint="use `add` or `remove`")
                continue
            ch.run(eff.value, here, _field_type(entity, target))
        else:
            if target.type != "many":
                ch.ctx.report("K511", f"`{eff.kind}` needs a many relation, but `{target.name}` is {article(target.type)} "
                              "field", eff.target.pointer, at_key=True, hint="use `set` for a single value")
                continue
            t = ch.run(eff.value, here)
            item = EntityType(target.to.name) if target.to else None
            if t is not None and item is not None and not _fits(item, t):
                ch.ctx.report("K502", f"`{eff.kind}` on `{target.name}` needs a {item.name}, not {describe(t)}",
                              eff.value.pointer, hint="e.g. `user` for the current user")


def _check_notification(ch: _ExpressionChecker, entity: Entity, n) -> None:
    here = ch.context(f"the recipients of {n.name}", record=entity.name)
    t = ch.run(n.to, here)
    if t is not None and not _is_users(t, ch.user):
        ch.ctx.report("K510", f"notifications go to users, but this is {describe(t)}", n.to.pointer,
                      hint="e.g. `record.assignee` or `record.project.members`")
    if n.event == "changed" and n.field is None:
        ch.ctx.report("K420", "a `changed` notification needs `field:`", n.pointer, at_key=True,
                      hint="name the field whose change triggers it, e.g. `field: assignee`")
    if n.event == "transition" and not n.transitions:
        ch.ctx.report("K420", "a `transition` notification needs `transitions:`", n.pointer, at_key=True,
                      hint="list the transitions, e.g. `transitions: [approve, reject]`")
    if n.message:
        _check_template(ch, entity, n)


def _check_template(ch: _ExpressionChecker, entity: Entity, n) -> None:
    """``{record.title}`` placeholders in a message must be valid paths."""
    from generator.loader.sourcemap import join_pointer

    pointer = join_pointer(n.pointer, "message")
    text = n.message
    i = 0
    while True:
        start = text.find("{", i)
        if start < 0:
            return
        end = text.find("}", start)
        if end < 0:
            ch.ctx.report_span("K514", "unclosed `{` in message", pointer, start, start + 1,
                               "close the placeholder with `}`, e.g. `{record.title}`")
            return
        tree, errors = parse(text[start + 1:end])
        errors = errors or (typecheck(tree, ch.view, ch.context("a message", record=entity.name))[1] if tree else [])
        for err in errors:
            ch.ctx.report_span("K514", f"placeholder `{{{text[start + 1:end]}}}`: {err.message}", pointer,
                               start + 1 + err.start, start + 1 + err.end,
                               err.hint or "placeholders are paths such as `{record.title}` or `{user.name}`")
        i = end + 1


def _field_type(entity: Entity, f: Field) -> Type:
    if f.type == "ref":
        return EntityType(f.to.name) if f.to else Unknown()
    if f.type == "enum":
        return EnumType(entity.name, f.name, f.values)
    mapping = {"text": "string", "email": "string", "url": "string", "slug": "string", "password": "string"}
    return Scalar(mapping.get(f.type, f.type))


def _fits(want: Type, got: Type) -> bool:
    from generator.expr.typerules import assignable

    return assignable(want, got)


def _is_users(t: Type, user: str | None) -> bool:
    if isinstance(t, Unknown):
        return True
    if isinstance(t, ListType):
        t = t.item
    return isinstance(t, EntityType) and (user is None or t.name == user)


def _string_literals(tree: Expr) -> Iterator[str]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Literal) and node.kind == "string":
            yield node.value
        elif isinstance(node, Binary):
            stack += [node.left, node.right]
        elif isinstance(node, Unary):
            stack.append(node.operand)
        elif isinstance(node, Call):
            stack += list(node.args)
        elif isinstance(node, ListLiteral):
            stack += list(node.items)
