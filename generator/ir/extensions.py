"""Extensions and hooks in the IR: which user function is called where.

Names were checked as identifiers by the JSON Schema (``module.name``) and against
the user module by ``generator.checks.extensions``; here they are only placed on the
entities and commands that call them. The generated app loads the modules itself at
start-up (templates/app/package/extensions.py.j2): Keel never imports user code.
"""

from __future__ import annotations

import dataclasses

from generator.ir.nodes import AppIR, CommandIR, EntityIR, ExtensionsIR, HookIR
from generator.model.spec import Entity, Spec

__all__ = ["attach_extensions", "ENTITY_HOOK_POINTS"]

# In the order a write meets them.
ENTITY_HOOK_POINTS = ("before_create", "after_create", "before_update", "after_update", "before_delete")


def attach_extensions(ir: AppIR, spec: Spec, where) -> AppIR:  # type: ignore[no-untyped-def]
    if spec.extensions is None:
        return ir
    entities = tuple(_entity(e, spec.entity(e.name), where) for e in ir.entities)
    hooks = tuple(h for e in entities for h in e.hooks) + tuple(
        c.hook for e in entities for c in (e.workflow.transitions if e.workflow else ()) + e.actions if c.hook)
    x = spec.extensions
    extensions = ExtensionsIR(
        modules=tuple((name, file) for name, file, _ in x.modules),
        hooks=tuple(sorted(hooks, key=lambda h: h.id)),
        routers=tuple((r.module, r.name, where(r.pointer)) for r in x.routers),
        middleware=tuple((m.module, m.name, where(m.pointer)) for m in x.middleware),
        source=where(x.pointer),
    )
    return dataclasses.replace(ir, entities=entities, extensions=extensions)


def _entity(e: EntityIR, entity: Entity, where) -> EntityIR:  # type: ignore[no-untyped-def]
    declared = dict(entity.hooks)
    hooks = tuple(HookIR(f"{e.name}.{point}", point, declared[point].module, declared[point].name,
                         where(declared[point].pointer))
                  for point in ENTITY_HOOK_POINTS if point in declared)
    nodes = {("transition", t.name): t for t in (entity.workflow.transitions if entity.workflow else ())}
    nodes.update({("action", a.name): a for a in entity.actions})

    def command(c: CommandIR) -> CommandIR:
        ref = nodes[(c.kind, c.name)].hook
        if ref is None:
            return c
        return dataclasses.replace(c, hook=HookIR(f"{e.name}.{c.name}", c.kind, ref.module, ref.name,
                                                  where(ref.pointer)))

    workflow = e.workflow
    if workflow is not None:
        workflow = dataclasses.replace(workflow, transitions=tuple(command(c) for c in workflow.transitions))
    return dataclasses.replace(e, hooks=hooks, workflow=workflow, actions=tuple(command(c) for c in e.actions))
