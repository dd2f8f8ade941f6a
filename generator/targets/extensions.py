"""View-models for the spec's extensions: the generated ``extensions.py`` and the hook calls.

``extensions.py`` (only for a spec with ``extensions:``) loads the user modules at
start-up; the CRUD and workflow routers call ``run_hook`` at each declared point, with a
comment naming the spec line that declared it (docs/extensions.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from generator.ir.nodes import AppIR, EntityIR, HookIR

if TYPE_CHECKING:  # generator.targets imports this module: import it back lazily
    from generator.targets import TemplateFile

__all__ = ["entity_hooks_context", "extension_files", "hook_view", "has_extensions"]


def has_extensions(ir: AppIR) -> bool:
    return ir.extensions is not None


def hook_view(hook: HookIR | None) -> dict[str, str] | None:
    """What a router prints to call one hook: its registry id, and a comment for readers."""
    if hook is None:
        return None
    return {"id": hook.id, "source": hook.source, "comment": f"{hook.point}: {hook.module}.{hook.function}"}


_HOOK_OPERATIONS = {"before_create": "create", "after_create": "create", "before_update": "update",
                    "after_update": "update", "before_delete": "delete"}


def entity_hooks_context(ir: AppIR, e: EntityIR, context: dict[str, Any]) -> dict[str, Any]:
    """What the CRUD router adds for hooks and for Idempotency-Key on create, given its other context.

    ``hooks``: by point (None where the spec declares none). An operation with a hook needs the
    user (the hook context carries it). A create honours Idempotency-Key with keys per user:
    when the create does not otherwise need the user, it is read only if a key is sent, so a
    create without the header costs no extra query.
    """
    hooks = {point: None for point in _HOOK_OPERATIONS} | {h.point: hook_view(h) for h in e.hooks}
    needs_user = sorted(set(context["needs_user"]) | {_HOOK_OPERATIONS[h.point] for h in e.hooks})
    creates = "create" in e.operations
    lazy_user = creates and ir.auth is not None and "create" not in needs_user
    return {
        "hooks": hooks,
        "has_hooks": bool(e.hooks),
        "needs_user": needs_user,
        "idempotent_create": creates,
        "idempotency_user": lazy_user,
        "idempotency_owner": "owner" if lazy_user else ("user" if "create" in needs_user else "None"),
    }


def extension_files(ir: AppIR, header: str) -> list[TemplateFile]:
    from generator.targets import TemplateFile  # lazily: generator.targets imports this module

    x = ir.extensions
    if x is None:
        return []
    return [TemplateFile(f"{ir.package}/extensions.py", "app/package/extensions.py.j2", {
        "header": header, "package": ir.package, "source": x.source, "modules": list(x.modules),
        "hooks": list(x.hooks), "routers": list(x.routers), "middleware": list(x.middleware)})]
