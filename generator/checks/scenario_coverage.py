"""Which of the spec's rules its scenarios exercise, allowed and denied: computed statically.

The scenarios are replayed on paper: each step's operation, its actor's role and the
answer it expects (which the generated test then checks for real). Coverage items:

* every CRUD operation guarded by rules: allowed (2xx; a list with ``count`` > 0) and
  denied (403/404 to a signed-in user; a list with ``count: 0``; 401/404 to an anonymous
  request when the only rule is being signed in);
* with several rules: each deny rule denied with ``expect.rule`` naming it, and each
  allow rule allowed, attributed by role when it is ``user.role == ...``/``in [...]`` and
  otherwise to the non-role allow rules when no role rule matches the actor;
* every transition and action: allowed (2xx) and denied (403/404/409); a transition with
  both ``roles:`` and ``permission:`` also denied by each (rules ``E.t.roles`` and ``E.t``);
* every approval step: approved by its role (200/202) and refused to its role (for a
  ``when:`` step, 403 ``E.t.approvers``: the condition did not hold); ``exclude`` denied
  (403 ``E.t.exclude``); ``distinct`` denied (409 ``already_approved``).

A spec with scenarios gets one K970 warning per entity listing what is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from generator.checks.context import CheckContext
from generator.checks.scenarios import command_of, resolve_target
from generator.ir.build import access_of
from generator.model.scenarios import ScenarioStep
from generator.model.spec import Entity, Rule, Spec

__all__ = ["CoverageItem", "coverage", "report_coverage"]

_ROLE_EQ = re.compile(r"^user\.role\s*==\s*'([A-Za-z0-9_]+)'$")
_ROLE_IN = re.compile(r"^user\.role\s+in\s+\[([^\]]*)\]$")


@dataclass
class CoverageItem:
    key: str  # e.g. "Task.delete", "Task.delete rule done-tasks-are-kept", "ExpenseReport.approve step 2 (finance)"
    entity: str
    pointer: str
    needs: tuple[str, ...]  # "allowed" and/or "denied"
    seen: set[str] = field(default_factory=set)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(n for n in self.needs if n not in self.seen)


def _roles_of(rule: Rule) -> set[str] | None:
    """The roles a role-only allow rule lets in; None for any other rule."""
    text = rule.expr.text.strip()
    if m := _ROLE_EQ.match(text):
        return {m.group(1)}
    if m := _ROLE_IN.match(text):
        return {part.strip().strip("'\"") for part in m.group(1).split(",") if part.strip()}
    return None


def _signin_only(entity: Entity, op: str) -> bool:
    rules = entity.permissions[op].rules
    return all(r.effect == "allow" and r.expr.text.strip() == "user != null" for r in rules)


class _Coverage:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.items: dict[str, CoverageItem] = {}
        for e in spec.entities:
            self._entity(e)

    def add(self, key: str, entity: Entity, pointer: str, *needs: str) -> None:
        self.items[key] = CoverageItem(key, entity.name, pointer, needs)

    def _entity(self, e: Entity) -> None:
        for op in e.operations:
            if access_of(e, op) != "authenticated":
                continue  # public, or refused to everyone: no rule to exercise
            rules = e.permissions[op]
            self.add(f"{e.name}.{op}", e, rules.pointer, "allowed", "denied")
            if len(rules.rules) > 1:
                for i, r in enumerate(rules.rules):
                    rid = r.id or f"{e.name}.{op}.{i + 1}"
                    self.add(f"{e.name}.{op} rule {rid}", e, r.pointer, "allowed" if r.effect == "allow" else "denied")
        for t in e.workflow.transitions if e.workflow else ():
            self.add(f"{e.name}.{t.name}", e, t.pointer, "allowed", "denied")
            if t.roles and t.permission is not None:
                self.add(f"{e.name}.{t.name} roles", e, t.pointer, "denied")
                self.add(f"{e.name}.{t.name} permission", e, t.permission.pointer, "denied")
            if t.approvals is not None:
                for i, s in enumerate(t.approvals.steps):
                    when = f", when {s.when.text}" if s.when else ""
                    self.add(f"{e.name}.{t.name} step {i + 1} ({s.role.name}{when})", e, s.pointer,
                             "allowed", "denied")
                self.add(f"{e.name}.{t.name} exclude", e, t.approvals.pointer, "denied")
                if t.approvals.distinct:
                    self.add(f"{e.name}.{t.name} distinct", e, t.approvals.pointer, "denied")
        for a in e.actions:
            self.add(f"{e.name}.{a.name}", e, a.pointer, "allowed", "denied")

    def mark(self, key: str, outcome: str) -> None:
        if key in self.items:
            self.items[key].seen.add(outcome)

    # -- replay --
    def replay(self) -> None:
        auth = self.spec.auth
        for scenario in self.spec.scenarios:
            roles = {u.name: r.name for u, r in scenario.users}
            records = {u.name: auth.user.name for u, _ in scenario.users} if auth else {}
            for step in scenario.steps:
                target = resolve_target(self.spec, step, records)
                if target is None:
                    continue
                role = roles.get(step.actor.name) if step.actor else None
                self._step(step, target.entity, target.command, role)
                if step.save is not None:
                    records[step.save.name] = target.entity.name

    def _step(self, step: ScenarioStep, e: Entity, command: str | None, role: str | None) -> None:
        expect = step.expect
        status = expect.status if expect and expect.status is not None else 200  # given: some 2xx
        ok = 200 <= status < 300
        rule = expect.rule if expect else None
        if step.op in ("read", "create", "update", "delete", "list"):
            self._crud(step, e, role, status, ok, rule)
        elif step.op == "do" and command is not None:
            kind, cmd = command_of(e, command)  # type: ignore[misc]
            key = f"{e.name}.{command}"
            if ok and not (kind == "transition" and cmd.approvals is not None and status != 200):
                self.mark(key, "allowed")
            elif status in (403, 404, 409):
                self.mark(key, "denied")
            if kind == "transition":
                self._transition(e, cmd, role, status, ok, rule, expect.code if expect else None)

    def _crud(self, step: ScenarioStep, e: Entity, role: str | None, status: int, ok: bool, rule: str | None) -> None:
        op = step.op
        if op not in e.permissions or access_of(e, op) != "authenticated":
            return
        key = f"{e.name}.{op}"
        count = step.expect.count if step.expect else None
        signin = _signin_only(e, op)
        if op == "list":  # a list filters what the user may not see: count 0 is the refusal
            if ok and count is not None:
                self.mark(key, "allowed" if count > 0 else "denied")
            elif status in (401, 403):
                self.mark(key, "denied")
            allowed = ok and count is not None and count > 0
        else:
            allowed = ok
            if status in (401, 403, 404) and (signin or role is not None):  # anonymous only for sign-in rules
                self.mark(key, "denied")
            elif ok:
                self.mark(key, "allowed")
        rules = e.permissions[op].rules
        if len(rules) <= 1:
            return
        ids = [r.id or f"{e.name}.{op}.{i + 1}" for i, r in enumerate(rules)]
        if status == 403 and rule is not None:
            self.mark(f"{key} rule {rule}", "denied")
        if allowed:
            allows = [(rid, r) for rid, r in zip(ids, rules) if r.effect == "allow"]
            by_role = [rid for rid, r in allows if role is not None and role in (_roles_of(r) or set())]
            for rid in by_role or [rid for rid, r in allows if _roles_of(r) is None]:
                self.mark(f"{key} rule {rid}", "allowed")

    def _transition(self, e: Entity, t, role: str | None, status: int, ok: bool, rule: str | None,  # type: ignore[no-untyped-def]
                    code: str | None) -> None:
        key = f"{e.name}.{t.name}"
        if status == 403 and rule == f"{key}.roles":
            self.mark(f"{key} roles", "denied")
        if status == 403 and rule == key:
            self.mark(f"{key} permission", "denied")
        if t.approvals is None:
            return
        if status == 403 and rule == f"{key}.exclude":
            self.mark(f"{key} exclude", "denied")
        if status == 409 and code == "already_approved":
            self.mark(f"{key} distinct", "denied")
        for i, s in enumerate(t.approvals.steps):
            if s.role.name != role:
                continue
            when = f", when {s.when.text}" if s.when else ""
            item = f"{key} step {i + 1} ({s.role.name}{when})"
            if ok:
                self.mark(item, "allowed")
            elif s.when is not None and status == 403 and rule == f"{key}.approvers":
                self.mark(item, "denied")
            elif s.when is None and status in (403, 409):
                self.mark(item, "denied")


def coverage(spec: Spec) -> list[CoverageItem]:
    """Every coverage item of ``spec``, with the outcomes its scenarios exercise."""
    c = _Coverage(spec)
    c.replay()
    return list(c.items.values())


def report_coverage(ctx: CheckContext) -> None:
    """K970 per entity whose rules the scenarios leave unexercised (only for a spec with scenarios)."""
    by_entity: dict[str, list[CoverageItem]] = {}
    for item in coverage(ctx.spec):
        if item.missing:
            by_entity.setdefault(item.entity, []).append(item)
    for name, items in by_entity.items():
        entity = ctx.spec.entity(name)
        shown = "; ".join(f"{i.key} ({' and '.join(i.missing)})" for i in items)
        ctx.report("K970", f"scenarios leave rules of {name} unexercised: {shown}", entity.pointer, at_key=True,
                   hint="add scenario steps that are allowed and refused by each rule (expect.rule names a "
                        "refusing rule)")
