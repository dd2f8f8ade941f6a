"""Every name that refers to something must name something that exists.

Unknown entities, fields, states, roles and transitions, each with a did-you-mean
hint. Checks that depend on *what kind* of thing is named (a has_many `via` that
must be a ref, a filter on a json field) live with their subject; this module only
asks "does it exist?".
"""

from __future__ import annotations

from generator.checks.context import CheckContext
from generator.model.spec import Entity, NameRef


def check_references(ctx: CheckContext) -> None:
    spec = ctx.spec
    entity_names = [e.name for e in spec.entities]
    roles = [r.name for r in spec.auth.roles] if spec.auth else []
    if spec.auth is not None:
        auth = spec.auth
        user = ctx.entity(auth.user.name)
        if user is None:
            ctx.unknown("K310", "entity", auth.user, entity_names, "as the user entity")
        else:
            for ref in (auth.identity, auth.password, auth.active_field):
                if ref is not None and user.field(ref.name) is None:
                    ctx.unknown("K311", "field", ref, _field_names(user), f"on `{user.name}`")
        if auth.default_role is not None and auth.default_role.name not in roles:
            ctx.unknown("K313", "role", auth.default_role, roles)

    for entity in spec.entities:
        for f in entity.fields:
            if f.to is not None and ctx.entity(f.to.name) is None:
                ctx.unknown("K310", "entity", f.to, entity_names)
            if f.slug_from is not None and entity.field(f.slug_from.name) is None:
                ctx.unknown("K311", "field", f.slug_from, _field_names(entity), f"on `{entity.name}`")
            if f.via is not None and f.to is not None:
                target = ctx.entity(f.to.name)
                if target is not None and target.field(f.via.name) is None:
                    ctx.unknown("K311", "field", f.via, _field_names(target), f"on `{target.name}`")
        _check_entity_lists(ctx, entity)
        if entity.workflow is not None:
            _check_workflow_refs(ctx, entity, roles if spec.auth is not None else None)
        transitions = [t.name for t in entity.workflow.transitions] if entity.workflow else []
        for n in entity.notifications:
            for t in n.transitions:
                if t.name not in transitions:
                    ctx.unknown("K314", "transition", t, transitions, f"on `{entity.name}`")


def _field_names(entity: Entity) -> list[str]:
    return [f.name for f in entity.fields]


def _field_or_computed(entity: Entity) -> list[str]:
    return _field_names(entity) + [c.name for c in entity.computed]


def _check_entity_lists(ctx: CheckContext, entity: Entity) -> None:
    fields = _field_names(entity)
    with_computed = _field_or_computed(entity)
    on = f"on `{entity.name}`"

    def need(refs, options, strip_minus: bool = False):
        for ref in refs:
            name = ref.name[1:] if strip_minus and ref.name.startswith("-") else ref.name
            if name not in options:
                ctx.unknown("K311", "field", NameRef(name, ref.pointer), options, on)

    need(entity.filters, with_computed)
    need(entity.sort, with_computed)
    need(entity.include, fields)
    need(entity.ordering, with_computed, strip_minus=True)
    for group in entity.unique + entity.indexes:
        need(group, fields)
    if entity.api.lookup is not None:
        need([entity.api.lookup], fields)
    for q in entity.queries:
        need(q.sort, with_computed, strip_minus=True)
    for n in entity.notifications:
        if n.field is not None:
            need([n.field], fields)
    effects = [e for a in entity.actions for e in a.effects]
    if entity.workflow is not None:
        effects += [e for t in entity.workflow.transitions for e in t.effects]
    need([e.target for e in effects], fields)


def _check_workflow_refs(ctx: CheckContext, entity: Entity, roles: list[str] | None) -> None:
    """``roles`` is None without an auth section: role names are then reported once, as K512."""
    wf = entity.workflow
    states = list(wf.state_names)
    for t in wf.transitions:
        for src in t.sources:
            if src.name != "*" and src.name not in states:
                ctx.unknown("K312", "state", src, states, f"in transition `{t.name}`")
        if t.target.name not in states:
            ctx.unknown("K312", "state", t.target, states, f"in transition `{t.name}`")
        for role in t.roles:
            if roles is not None and role.name not in roles:
                ctx.unknown("K313", "role", role, roles)
        if t.approvals is not None and roles is not None:
            for step in t.approvals.steps:
                if step.role.name not in roles:
                    ctx.unknown("K313", "role", step.role, roles)
    for s in wf.final:
        if s.name not in states:
            ctx.unknown("K312", "state", s, states)
    for fz in wf.frozen:
        for s in fz.states:
            if s.name not in states:
                ctx.unknown("K312", "state", s, states)
        if fz.return_to is not None and fz.return_to.name not in states:
            ctx.unknown("K312", "state", fz.return_to, states)
        for f in fz.fields:
            if entity.field(f.name) is None:
                ctx.unknown("K311", "field", f, _field_names(entity), f"on `{entity.name}`")
