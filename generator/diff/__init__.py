"""``keel diff``: what changed between two versions of a spec, and what it breaks.

Both versions are validated and built into the IR (normalised: defaults applied,
names resolved), then compared by ``entities`` (the data model), ``api`` (endpoints,
parameters, conventions; query parameters and statuses from the generated OpenAPI
document) and ``security`` (permissions, field access, guards, approvals). Every
change carries a stable rule id from ``catalogue`` and its location in both
versions; ``allow`` decides which are accepted; ``render`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.diff.allow import Allowances, apply_allowances
from generator.diff.api import compare_api
from generator.diff.catalogue import CATEGORIES, RULES
from generator.diff.entities import compare_entities, pair_entities
from generator.diff.model import Change, Location, Version
from generator.diff.security import compare_security

__all__ = ["Allowances", "CATEGORIES", "Change", "DiffResult", "Location", "RULES", "Version", "diff_versions"]


@dataclass(frozen=True)
class DiffResult:
    old: Version
    new: Version
    changes: tuple[Change, ...]

    @property
    def failed(self) -> bool:
        return any(c.blocking and c.allowed_by is None for c in self.changes)


def _order(c: Change) -> tuple:
    loc = c.new or c.old
    return (CATEGORIES.index(c.category), loc.file if loc else "", loc.line if loc else 0,
            loc.column if loc else 0, c.rule, c.target)


def diff_versions(old: Version, new: Version, allow: Allowances | None = None) -> DiffResult:
    pairs, removed, added = pair_entities(old, new)
    changes = compare_entities(old, new, pairs, removed, added)
    changes += compare_api(old, new, pairs)
    changes += compare_security(old, new, pairs)
    unique = list({(c.rule, c.target, c.message): c for c in changes}.values())  # each change once
    allowances = allow or Allowances()
    if not allowances.entries:
        allowances = Allowances(allowances.rules, allowances.breaking, allowances.destructive,
                                tuple(getattr(new.spec, "evolution", ())))
    return DiffResult(old, new, tuple(sorted(apply_allowances(unique, allowances), key=_order)))
