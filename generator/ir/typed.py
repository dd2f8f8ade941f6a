"""Parse and type-check one expression of a validated spec, for the IR passes that compile it."""

from __future__ import annotations

from generator.expr import check, parse
from generator.expr.nodes import Expr


def typed(text: str, view, context, expected=None) -> tuple[Expr, object, dict]:  # type: ignore[no-untyped-def]
    """``(tree, type, types)`` of ``text``. The spec was validated, so a problem here is a bug in Keel."""
    tree, errors = parse(text)
    assert tree is not None and not errors, f"validated specs only: {text!r}"
    t, problems, types = check(tree, view, context, expected)
    assert not problems, f"validated specs only: {text!r}: {problems}"
    return tree, t, types
