"""Warnings about what a spec leaves unsaid: operations nobody may perform, roles nobody uses.

Keel denies by default, so a missing permission is safe, but it is rarely what
the author meant; an unused role is usually a typo elsewhere.
"""

from __future__ import annotations

from generator.checks.context import CheckContext


def check_usage(ctx: CheckContext, string_literals: set[str]) -> None:
    for entity in ctx.spec.entities:
        missing = [op for op in entity.operations if op not in entity.permissions]
        if missing:
            ctx.report("K951", f"`{entity.name}` has no permission rule for {', '.join(missing)}: nobody may do it",
                       entity.permissions_pointer or entity.pointer, at_key=True,
                       hint="add `permissions:` (e.g. `all: true` for public access), or drop the operation from "
                       "`operations:`")
        for action in entity.actions:
            if action.permission is None:
                ctx.report("K951", f"action `{action.name}` has no `permission`: nobody may do it", action.pointer,
                           at_key=True, hint="add `permission: <expression>`")
        if entity.workflow is not None:
            for t in entity.workflow.transitions:
                if t.permission is None and not t.roles and t.approvals is None:
                    ctx.report("K951", f"transition `{t.name}` has no `roles` or `permission`: nobody may do it",
                               t.pointer, at_key=True, hint="add `roles: [...]` or `permission: <expression>`")
    _check_roles_used(ctx, string_literals)


def _check_roles_used(ctx: CheckContext, string_literals: set[str]) -> None:
    auth = ctx.spec.auth
    if auth is None:
        return
    used = set(string_literals)
    if auth.default_role is not None:
        used.add(auth.default_role.name)
    for entity in ctx.spec.entities:
        if entity.workflow is None:
            continue
        for t in entity.workflow.transitions:
            used.update(r.name for r in t.roles)
            if t.approvals is not None:
                used.update(s.role.name for s in t.approvals.steps)
    for role in auth.roles:
        if role.name not in used:
            ctx.report("K931", f"role `{role.name}` is declared but no rule mentions it", role.pointer,
                       hint="use it in a rule (e.g. `user.role == '" + role.name + "'`) or remove it")
