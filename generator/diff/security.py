"""Who may see or do what, old against new: permissions, field access, guards, approvals,
frozen fields, sign-up, the default role and the audit trail.

Rules are compared with ``generator.diff.logic`` (widened, narrowed, same or changed:
see there for exactly what is proved). A widened rule, or one whose direction Keel
cannot prove, is always flagged for review; a narrowed one breaks clients that were
allowed (they now get 403 or 409). Rules written differently but proved the same
(reordered alternatives, ``a == b`` for ``b == a``) are not reported.
"""

from __future__ import annotations

from generator.diff.entities import EntityPair
from generator.diff.logic import (
    FALSE, SIGNED_IN, TRUE, Predicate, TooLarge, combine, compare, conjoin, disjoin, predicate,
)
from generator.diff.model import Change, Version, change
from generator.expr.unparse import quote
from generator.ir.build import access_of
from generator.model.spec import Entity, RuleSet

__all__ = ["compare_security"]

_SIGNED_IN: Predicate = frozenset({frozenset({SIGNED_IN})})


def compare_security(old: Version, new: Version, pairs: list[EntityPair]) -> list[Change]:
    out = _auth(old, new)
    for p in pairs:
        out += _permissions(old, new, p)
        out += _field_access(old, new, p)
        out += _commands(old, new, p)
        out += _frozen(old, new, p)
        out += _invariants(old, new, p)
        if p.old.audit != p.new.audit:
            at = (old.locate(p.old_spec.pointer), new.locate(p.new_spec.pointer))
            rule = "audit-enabled" if p.new.audit else "audit-disabled"
            out.append(change(rule, f"{p.new.name}.audit", f"changes to `{p.new.name}` are "
                              + ("now recorded in the audit trail" if p.new.audit else "no longer audited"), *at))
    return out


def _rules(rule_set: RuleSet | None,
           renames: dict[str, str] | None = None) -> tuple[Predicate | None, Predicate | None]:
    """(allows, denies) of a rule set; None where a rule could not be normalised."""
    if rule_set is None:
        return FALSE, FALSE
    try:
        allows = [predicate(r.expr.text, renames) for r in rule_set.rules if r.effect == "allow"]
        denies = [predicate(r.expr.text, renames) for r in rule_set.rules if r.effect == "deny"]
        allowed = None if None in allows else disjoin(allows)  # type: ignore[arg-type]
        denied = None if None in denies else disjoin(denies)  # type: ignore[arg-type]
        return allowed, denied
    except TooLarge:
        return None, None


def _direction(old: tuple, new: tuple) -> str:
    return combine(compare(old[0], new[0]), compare(old[1], new[1]))


def _report(kind: str, direction: str, target: str, what: str, at,  # type: ignore[no-untyped-def]
            details=None) -> list[Change]:
    if direction == "same":
        return []
    words = {"widened": "allows more than before", "narrowed": "allows less than before",
             "changed": "changed in a way Keel cannot order (neither wider nor narrower)"}[direction]
    note = {"widened": ": review it", "changed": ": review it", "narrowed": ""}[direction]
    return [change(f"{kind}-{direction}", target, f"{what} {words}{note}", *at, details=details or {})]


def _renames(p: EntityPair) -> dict[str, str]:
    """Old field name -> new, for the fields of this entity renamed with ``renamed_from``."""
    return {f.renamed_from: f.name for f in p.new_spec.fields if getattr(f, "renamed_from", None)}


def _operation(entity: Entity, op: str, renames: dict[str, str] | None = None) -> tuple:
    access = access_of(entity, op)
    if access == "denied":
        return FALSE, FALSE
    allows, denies = _rules(entity.permissions.get(op), renames)
    if access == "public":
        return TRUE, FALSE
    try:
        return (conjoin(allows, _SIGNED_IN) if allows is not None else None), denies
    except TooLarge:
        return None, denies


def _texts(rule_set: RuleSet | None) -> list[str]:
    return [f"{r.effect}: {r.expr.text}" for r in rule_set.rules] if rule_set else []


def _permissions(old: Version, new: Version, p: EntityPair) -> list[Change]:
    out = []
    for op in p.new_spec.operations:
        if op not in p.old_spec.operations:
            continue
        a, b = _operation(p.old_spec, op, _renames(p)), _operation(p.new_spec, op)
        rs0, rs1 = p.old_spec.permissions.get(op), p.new_spec.permissions.get(op)
        at = (old.locate(rs0.pointer if rs0 else p.old_spec.permissions_pointer or p.old_spec.pointer),
              new.locate(rs1.pointer if rs1 else p.new_spec.permissions_pointer or p.new_spec.pointer))
        out += _report("permission", _direction(a, b), f"{p.new.name}.permissions.{op}",
                       f"the {op} permission of `{p.new.name}`", at,
                       {"from": _texts(rs0), "to": _texts(rs1)})
    return out


def _field_access(old: Version, new: Version, p: EntityPair) -> list[Change]:
    out = []
    for f in p.new_spec.fields:
        f0 = p.old_spec.field(f.name) or (p.old_spec.field(f.renamed_from) if f.renamed_from else None)
        if f0 is None:
            continue
        for op, kind in (("read", "field-visibility"), ("write", "field-write")):
            rs0, rs1 = (f0.access_read, f.access_read) if op == "read" else (f0.access_write, f.access_write)
            if rs0 is None and rs1 is None:
                continue
            a = _rules(rs0, _renames(p)) if rs0 is not None else (TRUE, FALSE)
            b = _rules(rs1) if rs1 is not None else (TRUE, FALSE)
            at = (old.locate(rs0.pointer if rs0 else f0.pointer), new.locate(rs1.pointer if rs1 else f.pointer))
            who = "read" if op == "read" else "set"
            out += _report(kind, _direction(a, b), f"{p.new.name}.{f.name}.{op}",
                           f"who may {who} `{p.new.name}.{f.name}`", at, {"from": _texts(rs0), "to": _texts(rs1)})
    return out


def _command_rules(node, renames: dict[str, str] | None = None) -> tuple:  # type: ignore[no-untyped-def]
    """A transition's or action's permission: its rules and its roles must both hold, for a signed-in user."""
    allows, denies = _rules(node.permission, renames) if node.permission is not None else (TRUE, FALSE)
    roles = tuple(r.name for r in getattr(node, "roles", ()))
    try:
        if allows is not None and roles:
            allows = conjoin(allows, disjoin(predicate(f"user.role == {quote(r)}") or FALSE for r in roles))
        return (conjoin(allows, _SIGNED_IN) if allows is not None else None), denies
    except TooLarge:
        return None, denies


def _commands(old: Version, new: Version, p: EntityPair) -> list[Change]:
    out: list[Change] = []
    before = {n.name: n for n in _nodes(p.old_spec)}
    renames = _renames(p)
    commands0 = {c.name: c for c in (list(p.old.workflow.transitions if p.old.workflow else ()) + list(p.old.actions))}
    commands1 = {c.name: c for c in (list(p.new.workflow.transitions if p.new.workflow else ()) + list(p.new.actions))}
    for node in _nodes(p.new_spec):
        n0 = before.get(node.name)
        if n0 is None or type(n0) is not type(node):
            continue
        target = f"{p.new.name}.{node.name}"
        at = (old.locate(n0.pointer), new.locate(node.pointer))
        out += _report("permission", _direction(_command_rules(n0, renames), _command_rules(node)), target,
                       f"the permission of `{target}`", at,
                       {"from": _texts(n0.permission) + _roles(n0), "to": _texts(node.permission) + _roles(node)})
        g0 = predicate(n0.guard.text, renames) if n0.guard else TRUE
        g1 = predicate(node.guard.text) if node.guard else TRUE
        gat = (old.locate(n0.guard.pointer if n0.guard else n0.pointer),
               new.locate(node.guard.pointer if node.guard else node.pointer))
        out += _report("transition-guard", compare(g0, g1), f"{target}.guard", f"the guard of `{target}`", gat,
                       {"from": n0.guard.text if n0.guard else None, "to": node.guard.text if node.guard else None})
        c0, c1 = commands0.get(node.name), commands1.get(node.name)
        if c0 is not None and c1 is not None:
            out += _approvals(old, new, target, n0, node, c0.approvals, c1.approvals, renames)
    return out


def _roles(node) -> list[str]:  # type: ignore[no-untyped-def]
    roles = [r.name for r in getattr(node, "roles", ())]
    return [f"roles: {roles}"] if roles else []


def _nodes(entity: Entity) -> list:
    return list(entity.workflow.transitions if entity.workflow else ()) + list(entity.actions)


def _approvals(old: Version, new: Version, target: str, n0, n1, a0, a1,  # type: ignore[no-untyped-def]
               renames: dict[str, str]) -> list[Change]:
    ptr0 = n0.approvals.pointer if getattr(n0, "approvals", None) else n0.pointer
    ptr1 = n1.approvals.pointer if getattr(n1, "approvals", None) else n1.pointer
    at = (old.locate(ptr0), new.locate(ptr1))
    t = f"{target}.approvals"
    if a0 is None and a1 is None:
        return []
    if a0 is None or a1 is None:
        rule = "approval-rule-strengthened" if a0 is None else "approval-rule-weakened"
        what = "now needs approvals" if a0 is None else "no longer needs any approval"
        return [change(rule, t, f"`{target}` {what}" + (": review it" if a1 is None else ""), *at)]
    weaker, stronger, other = [], [], []
    steps0 = [(s.role, s.when.text if s.when else None) for s in a0.steps]
    steps1 = [(s.role, s.when.text if s.when else None) for s in a1.steps]
    roles0, roles1 = [r for r, _ in steps0], [r for r, _ in steps1]
    for role in roles0:
        if roles0.count(role) > roles1.count(role):
            weaker.append(f"the {role} approval step was removed")
    for role in roles1:
        if roles1.count(role) > roles0.count(role):
            stronger.append(f"a {role} approval step was added")
    common = [r for r in roles0 if r in roles1]
    if [r for r in roles1 if r in roles0] != common:
        other.append("the approval steps are in another order")
    for (role, when0) in steps0:
        match = next((w for r, w in steps1 if r == role), "<none>")
        if match == "<none>" or match == when0:
            continue
        if when0 and match and compare(predicate(when0, renames), predicate(match)) == "same":
            continue
        # a step is required when its condition holds: a wider condition asks for approval more often
        d = compare(predicate(when0, renames) if when0 else TRUE, predicate(match) if match else TRUE)
        words = f"the {role} step's condition changed from {when0 or 'always'!r} to {match or 'always'!r}"
        {"widened": stronger, "narrowed": weaker, "changed": other, "same": []}[d].append(words)
    ex0, ex1 = a0.exclude.text if a0.exclude else None, a1.exclude.text if a1.exclude else None
    if ex0 and ex1 and compare(predicate(ex0, renames), predicate(ex1)) == "same":
        ex1 = ex0
    if ex0 != ex1:
        if ex1 is None:
            weaker.append(f"approvers are no longer excluded by {ex0!r}")
        elif ex0 is None:
            stronger.append(f"approvers are now excluded by {ex1!r}")
        else:
            other.append(f"who may not approve changed from {ex0!r} to {ex1!r}")
    if a0.distinct != a1.distinct:
        (weaker if a0.distinct else stronger).append("distinct approvers are " + ("no longer" if a0.distinct else "now")
                                                     + " required")
    out = []
    for rule, items, note in (("approval-rule-weakened", weaker, ": review it"),
                              ("approval-rule-strengthened", stronger, ""),
                              ("approval-rule-changed", other, ": review it")):
        if items:
            out.append(change(rule, t, f"approvals of `{target}`: {'; '.join(items)}{note}", *at,
                              details={"changes": items}))
    return out


def _frozen(old: Version, new: Version, p: EntityPair) -> list[Change]:
    def pairs(entity: Entity) -> set[tuple[str, str]]:
        if entity.workflow is None:
            return set()
        return {(s.name, f.name) for fr in entity.workflow.frozen for s in fr.states for f in fr.fields}

    renamed = _renames(p)
    a = {(s, renamed.get(f, f)) for s, f in pairs(p.old_spec)}
    b = pairs(p.new_spec)
    ptr0 = p.old_spec.workflow.pointer if p.old_spec.workflow else p.old_spec.pointer
    ptr1 = p.new_spec.workflow.pointer if p.new_spec.workflow else p.new_spec.pointer
    at = (old.locate(ptr0), new.locate(ptr1))
    out = []
    if a - b:
        shown = ", ".join(f"{f} in {s}" for s, f in sorted(a - b))
        out.append(change("frozen-rule-weakened", f"{p.new.name}.frozen", f"`{p.new.name}` fields no longer frozen: "
                          f"{shown}: review it", *at, details={"unfrozen": sorted(map(list, a - b))}))
    if b - a:
        shown = ", ".join(f"{f} in {s}" for s, f in sorted(b - a))
        out.append(change("frozen-rule-strengthened", f"{p.new.name}.frozen", f"`{p.new.name}` fields now frozen: "
                          f"{shown}", *at, details={"frozen": sorted(map(list, b - a))}))
    return out


def _invariants(old: Version, new: Version, p: EntityPair) -> list[Change]:
    before = {i.name: i for i in p.old_spec.invariants}
    out = []
    for inv in p.new_spec.invariants:
        target = f"{p.new.name}.invariants.{inv.name}"
        i0 = before.get(inv.name)
        if i0 is None:
            out.append(change("invariant-added", target, f"new invariant `{inv.name}` on `{p.new.name}`: requests "
                              "that were accepted may be refused, and existing rows may violate it", None,
                              new.locate(inv.pointer)))
            continue
        d = compare(predicate(i0.check.text, _renames(p)), predicate(inv.check.text))
        rule = {"widened": "invariant-relaxed", "narrowed": "invariant-narrowed", "changed": "invariant-changed"}.get(d)
        if rule:
            out.append(change(rule, target, f"invariant `{inv.name}` of `{p.new.name}` changed from "
                              f"{i0.check.text!r} to {inv.check.text!r}", old.locate(i0.pointer),
                              new.locate(inv.pointer), details={"from": i0.check.text, "to": inv.check.text}))
    names = {i.name for i in p.new_spec.invariants}
    for i0 in p.old_spec.invariants:
        if i0.name not in names:
            out.append(change("invariant-relaxed", f"{p.new.name}.invariants.{i0.name}", f"invariant `{i0.name}` of "
                              f"`{p.new.name}` was removed", old.locate(i0.pointer), new.locate(p.new_spec.pointer)))
    return out


def _auth(old: Version, new: Version) -> list[Change]:
    a, b = old.ir.auth, new.ir.auth
    if a is None or b is None:
        return []
    at = (old.locate("/auth"), new.locate("/auth"))
    out = []
    if b.signup and not a.signup:
        out.append(change("signup-enabled", "auth.signup", "anyone may now sign up: review it", *at))
    if a.default_role != b.default_role:
        out.append(change("default-role-changed", "auth.default_role", f"new users get the role `{b.default_role}` "
                          f"instead of `{a.default_role}`: review it", *at,
                          details={"from": a.default_role, "to": b.default_role}))
    return out
