"""Relations must fit together, and entity-level options must name suitable fields.

Covers inverse relations (has_many ``via``, many-to-many mirrors), cycles of
required references (no row could ever be inserted first), lookups that are not
unique, composite constraints over collections, the auth section's fields, and
Keel-owned fields (role, workflow state) that a spec also declares.
"""

from __future__ import annotations

from generator.checks.context import CheckContext, article
from generator.loader.sourcemap import join_pointer
from generator.model.spec import Entity, Field

UNINDEXABLE = ("many", "has_many", "json", "password", "text")


def check_relations(ctx: CheckContext) -> None:
    for entity in ctx.spec.entities:
        for f in entity.fields:
            if f.type == "has_many":
                _check_has_many(ctx, entity, f)
            elif f.type == "many":
                _check_many(ctx, entity, f)
        _check_composites(ctx, entity)
        _check_lookup(ctx, entity)
        _check_owned_fields(ctx, entity)
    _check_required_cycles(ctx)
    _check_auth(ctx)


def _target(ctx: CheckContext, f: Field) -> Entity | None:
    return ctx.entity(f.to.name) if f.to is not None else None


def _check_has_many(ctx: CheckContext, entity: Entity, f: Field) -> None:
    target = _target(ctx, f)
    if target is None:
        return
    if f.via is not None:
        back = target.field(f.via.name)
        if back is not None and not (back.type == "ref" and back.to is not None and back.to.name == entity.name):
            ctx.report("K410", f"`{target.name}.{back.name}` is not a ref to `{entity.name}`", f.via.pointer,
                       hint=f"`via` names the field of `{target.name}` that refers back to `{entity.name}`",
                       related=[(f"`{target.name}.{back.name}`", back.pointer)])
        return
    candidates = [g for g in target.fields if g.type == "ref" and g.to is not None and g.to.name == entity.name]
    if len(candidates) == 1:
        return
    if not candidates:
        ctx.report("K410", f"`{target.name}` has no ref to `{entity.name}` for this has_many to mirror", f.pointer,
                   at_key=True, hint=f"add `{_snake(entity.name)}: {{type: ref, to: {entity.name}}}` to `{target.name}`")
    else:
        names = ", ".join(f"`{g.name}`" for g in candidates)
        ctx.report("K410", f"`{target.name}` has several refs to `{entity.name}` ({names}); which one is this?",
                   f.pointer, at_key=True, hint=f"add `via: {candidates[0].name}`")


def _check_many(ctx: CheckContext, entity: Entity, f: Field) -> None:
    target = _target(ctx, f)
    if target is None or f.via is None:
        return
    mirror = target.field(f.via.name)
    if mirror is None:
        return
    if mirror.type != "many" or mirror.to is None or mirror.to.name != entity.name:
        ctx.report("K411", f"`{target.name}.{mirror.name}` is not a many relation to `{entity.name}`", f.via.pointer,
                   hint="`via` on a many field names the many field on the other side that it mirrors",
                   related=[(f"`{target.name}.{mirror.name}`", mirror.pointer)])
    elif mirror.via is not None:
        ctx.report("K411", f"`{entity.name}.{f.name}` and `{target.name}.{mirror.name}` both say `via`; only the "
                   "mirror side may", f.via.pointer,
                   hint="keep `via` on exactly one side: the side without it owns the link table",
                   related=[("the other side", mirror.pointer)])
    elif f.through is not None:
        ctx.report("K411", "the mirror side of a many-to-many shares the other side's link table", 
                   join_pointer(f.pointer, "through"), at_key=True,
                   hint=f"set `through` on `{target.name}.{mirror.name}` instead")


def _snake(name: str) -> str:
    from generator.naming import snake

    return snake(name)


def _check_composites(ctx: CheckContext, entity: Entity) -> None:
    groups = [("unique constraint", g) for g in entity.unique] + [("index", g) for g in entity.indexes]
    for kind, group in groups:
        seen: set[str] = set()
        for ref in group:
            f = entity.field(ref.name)
            if ref.name in seen:
                ctx.report("K414", f"`{ref.name}` appears twice in one {kind}", ref.pointer, hint="remove the repeat")
            seen.add(ref.name)
            if f is not None and f.type in UNINDEXABLE:
                ctx.report("K414", f"a {kind} cannot include the {f.type} field `{f.name}`", ref.pointer,
                           hint="use fields stored in this entity's own columns")
    for ref in entity.ordering:
        f = entity.field(ref.name.lstrip("-"))
        if f is not None and f.type in ("many", "has_many", "json", "password"):
            ctx.report("K414", f"cannot order by the {f.type} field `{f.name}`", ref.pointer,
                       hint="order by a scalar field, e.g. `-created_at`")


def _check_lookup(ctx: CheckContext, entity: Entity) -> None:
    lookup = entity.api.lookup
    if lookup is None:
        return
    f = entity.field(lookup.name)
    if f is not None and not (f.unique or f.type == "slug" or f.name == "id"):
        ctx.report("K418", f"lookup field `{f.name}` is not unique, so a path could match several records",
                   lookup.pointer, hint=f"add `unique: true` to `{f.name}`, or use a slug field",
                   related=[(f"field `{f.name}`", f.pointer)])
    elif f is not None and f.type in ("many", "has_many", "json", "password", "ref"):
        ctx.report("K418", f"{article(f.type)} field cannot be a lookup", lookup.pointer, hint="use a unique string or slug")


def _check_owned_fields(ctx: CheckContext, entity: Entity) -> None:
    wf = entity.workflow
    if wf is not None:
        declared = entity.field(wf.field)
        if declared is not None and not declared.synthesized:
            ctx.report("K419", f"`{wf.field}` is the workflow's state field; Keel adds it", declared.pointer,
                       at_key=True, hint=f"remove the field `{wf.field}` (its values are the workflow states)",
                       related=[("the workflow", wf.pointer)])
    auth = ctx.spec.auth
    if auth is not None and auth.user.name == entity.name:
        declared = entity.field("role")
        if declared is not None and not declared.synthesized:
            ctx.report("K413", "`role` is added to the user entity by Keel from `auth.roles`", declared.pointer,
                       at_key=True, hint="remove the field `role`; list the roles under `auth.roles`")


def _check_auth(ctx: CheckContext) -> None:
    auth = ctx.spec.auth
    if auth is None:
        return
    user = ctx.entity(auth.user.name)
    if user is None:
        return
    identity = user.field(auth.identity.name)
    if identity is not None and not (identity.type in ("string", "email", "slug") and (identity.unique or identity.type == "slug")):
        ctx.report("K413", f"the identity field `{identity.name}` must be a unique string or email",
                   auth.identity.pointer, hint=f"declare `{identity.name}` with `type: email` and `unique: true`",
                   related=[(f"field `{identity.name}`", identity.pointer)])
    password = user.field(auth.password.name)
    if password is not None and password.type != "password":
        ctx.report("K413", f"`{password.name}` must be a password field, not {password.type}", auth.password.pointer,
                   hint=f"declare `{password.name}: {{type: password}}`", related=[("the field", password.pointer)])
    if auth.active_field is not None:
        active = user.field(auth.active_field.name)
        if active is not None and active.type != "boolean":
            ctx.report("K413", f"`{active.name}` must be a boolean field to say whether a user is active",
                       auth.active_field.pointer, related=[("the field", active.pointer)])


def _check_required_cycles(ctx: CheckContext) -> None:
    """A cycle of required refs means every row needs another to exist first: inserts are impossible."""
    edges: dict[str, list[Field]] = {}
    for entity in ctx.spec.entities:
        edges[entity.name] = [
            f for f in entity.fields
            if f.type == "ref" and f.required and not f.auto and f.to is not None and ctx.entity(f.to.name)
        ]
    reported: set[frozenset[str]] = set()
    for start in edges:
        stack: list[tuple[str, list[Field]]] = [(start, [])]
        visited: set[str] = set()
        while stack:
            node, path = stack.pop()
            for f in edges.get(node, []):
                target = f.to.name
                if target == start:
                    cycle = path + [f]
                    key = frozenset(g.pointer for g in cycle)
                    if key not in reported:
                        reported.add(key)
                        _report_cycle(ctx, cycle)
                elif target not in visited:
                    visited.add(target)
                    stack.append((target, path + [f]))


def _report_cycle(ctx: CheckContext, cycle: list[Field]) -> None:
    first = min(cycle, key=lambda f: f.pointer)
    chain = " -> ".join(f"{f.pointer.split('/')[2]}.{f.name}" for f in cycle)
    ctx.report("K408", f"required references form a cycle ({chain}): no row can be inserted first", first.pointer,
               at_key=True, hint="make one of these references `required: false`",
               related=[(f"`{f.name}`", f.pointer) for f in cycle if f is not first])
