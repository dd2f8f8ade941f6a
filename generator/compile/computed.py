"""Computed fields, parsed and type-checked once, so the compilers can inline them where they are used."""

from __future__ import annotations

from generator.compile.compiler import Computed
from generator.model.spec import Spec

__all__ = ["computed_from_spec"]


def computed_from_spec(spec: Spec) -> dict[tuple[str, str], Computed]:
    """``(entity, field) -> Computed`` for every computed field of a validated spec."""
    from generator.checks.expressions import SpecSchemaView
    from generator.expr import Context, check, parse

    view = SpecSchemaView(spec)
    user = spec.auth.user.name if spec.auth is not None else None
    out: dict[tuple[str, str], Computed] = {}
    for entity in spec.entities:
        for c in entity.computed:
            tree, errors = parse(c.expr.text)
            if tree is None or errors:
                raise ValueError(f"{entity.name}.{c.name}: the spec must be validated before compiling")
            _, errors, types = check(tree, view, Context(record=entity.name, user=user))
            if errors:
                raise ValueError(f"{entity.name}.{c.name}: the spec must be validated before compiling")
            out[(entity.name, c.name)] = Computed(tree, types)
    return out
