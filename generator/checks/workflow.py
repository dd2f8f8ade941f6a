"""State machines must be coherent graphs.

An initial state that exists, every state reachable from it, no live state
without a way out (unless it is declared final), final states without outgoing
transitions, approvals and role restrictions that an auth section can back,
and frozen-field rules that do not send a record round in circles.
"""

from __future__ import annotations

from collections import deque

from generator.checks.context import CheckContext
from generator.model.spec import Entity, Workflow


def check_workflows(ctx: CheckContext) -> None:
    for entity in ctx.spec.entities:
        if entity.workflow is not None:
            _check_graph(ctx, entity.workflow)
            _check_auth_needs(ctx, entity.workflow)
            _check_frozen(ctx, entity, entity.workflow)


def _check_graph(ctx: CheckContext, wf: Workflow) -> None:
    states = set(wf.state_names)
    if wf.initial.name not in states:
        ctx.unknown("K506", "state", wf.initial, states, "as the initial state")
        return
    named = {s.name for t in wf.transitions for s in t.sources if s.name != "*"} | {t.target.name for t in wf.transitions}
    if not named <= states:
        return  # an unknown state is already reported (K312); reachability would only echo it
    outgoing: dict[str, set[str]] = {s: set() for s in states}
    for t in wf.transitions:
        sources = states if any(s.name == "*" for s in t.sources) else {s.name for s in t.sources}
        for s in sources & states:
            if t.target.name in states:
                outgoing[s].add(t.target.name)
    reachable = {wf.initial.name}
    queue = deque([wf.initial.name])
    while queue:
        for nxt in outgoing[queue.popleft()]:
            if nxt not in reachable:
                reachable.add(nxt)
                queue.append(nxt)
    final = {s.name for s in wf.final}
    for state in wf.states:
        if state.name not in reachable:
            ctx.report("K507", f"state `{state.name}` cannot be reached from `{wf.initial.name}`", state.pointer,
                       hint=f"add a transition with `to: {state.name}`, or remove the state")
        elif not (outgoing[state.name] - {state.name}) and state.name not in final:
            ctx.report("K952", f"state `{state.name}` has no way out but is not listed as final", state.pointer,
                       hint=f"add `{state.name}` to `final:` if records end there, or add a transition out of it")
    for t in wf.transitions:
        explicit = {s.name for s in t.sources}
        for s in wf.final:
            if s.name in explicit:
                ctx.report("K953", f"final state `{s.name}` has an outgoing transition `{t.name}`", s.pointer,
                           hint=f"remove `{s.name}` from `final:` or from the transition's `from`",
                           related=[(f"transition `{t.name}`", t.pointer)])


def _check_auth_needs(ctx: CheckContext, wf: Workflow) -> None:
    if ctx.spec.auth is not None:
        return
    for t in wf.transitions:
        if t.roles:
            ctx.report("K512", f"transition `{t.name}` restricts roles, but the spec has no `auth:` section",
                       t.roles[0].pointer, hint="declare `auth:` with the user entity and its roles")
        if t.approvals is not None:
            ctx.report("K512", f"transition `{t.name}` needs approvals, but the spec has no `auth:` section",
                       t.approvals.pointer, hint="declare `auth:` with the user entity and its roles")


def _check_frozen(ctx: CheckContext, entity: Entity, wf: Workflow) -> None:
    for fz in wf.frozen:
        frozen_states = {s.name for s in fz.states}
        for ref in fz.fields:
            if ref.name == wf.field:
                ctx.report("K513", f"`{wf.field}` is the state field; transitions change it, it cannot be frozen",
                           ref.pointer, hint="remove it from `fields`")
            f = entity.field(ref.name)
            if f is not None and f.synthesized and f.name != wf.field:
                ctx.report("K513", f"`{f.name}` is managed by Keel and never written by clients", ref.pointer,
                           hint="remove it from `fields`")
        if fz.return_to is not None and fz.return_to.name in frozen_states:
            ctx.report("K513", f"`return_to: {fz.return_to.name}` is itself a frozen state", fz.return_to.pointer,
                       hint="return to a state where these fields may change, e.g. `draft`")
