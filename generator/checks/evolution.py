"""``evolution.allow``: each entry must name a rule ``keel diff`` knows (K801).

Targets are not checked against this spec: an accepted change usually names
something the spec no longer has (``field-removed`` of ``Task.legacy``).
"""

from __future__ import annotations

import difflib

from generator.checks.context import CheckContext
from generator.loader.sourcemap import join_pointer

__all__ = ["check_evolution"]


def check_evolution(ctx: CheckContext) -> None:
    from generator.diff.catalogue import RULES

    for entry in getattr(ctx.spec, "evolution", ()):
        if entry.rule in RULES:
            continue
        close = difflib.get_close_matches(entry.rule, sorted(RULES), n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else "see the rule ids in docs/diff.md"
        ctx.report("K801", f"`{entry.rule}` is not a keel diff rule", join_pointer(entry.pointer, "rule"), hint=hint)
