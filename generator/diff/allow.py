"""Which reported changes are accepted: by flags, or by the new spec's ``evolution.allow``.

An allow-list entry matches a change when its ``rule`` is the change's rule and its
``target`` is the change's target or a dotted prefix of it (``Task`` covers
``Task.legacy``; ``Task.permissions`` covers ``Task.permissions.update``); an entry
without a target covers every change of its rule. ``--allow-breaking`` accepts
changes that break API clients and nothing else; ``--allow-destructive`` accepts data
loss and nothing else; a security change flagged for review is accepted only by its
rule id (``--allow RULE`` or an allow-list entry): a widened rule never passes by a
blanket flag.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.diff.model import Change
from generator.model.spec import AllowedChange

__all__ = ["Allowances", "apply_allowances"]


@dataclass(frozen=True)
class Allowances:
    rules: tuple[str, ...] = ()  # --allow RULE
    breaking: bool = False  # --allow-breaking
    destructive: bool = False  # --allow-destructive
    entries: tuple[AllowedChange, ...] = ()  # evolution.allow of the new spec


def _covers(target: str | None, changed: str) -> bool:
    if target is None or target == changed:
        return True
    return changed.startswith(target) and changed[len(target)] in ".?"


def _by(change: Change, allow: Allowances) -> str | None:
    for index, entry in enumerate(allow.entries):
        if entry.rule == change.rule and _covers(entry.target, change.target):
            return f"evolution.allow[{index}]: {entry.reason}"
    if change.rule in allow.rules:
        return f"--allow {change.rule}"
    if change.review:
        return None
    if (change.breaking and not allow.breaking) or (change.destructive and not allow.destructive):
        return None
    flags = [f for f, on in (("--allow-breaking", change.breaking), ("--allow-destructive", change.destructive)) if on]
    return " ".join(flags) or None


def apply_allowances(changes: list[Change], allow: Allowances) -> list[Change]:
    out = []
    for c in changes:
        by = _by(c, allow) if c.blocking else None
        out.append(c.allowed(by) if by else c)
    return out
