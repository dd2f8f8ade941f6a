"""``keel explain`` for workflows, transitions, frozen fields, actions and named queries.

Pure functions from an ``EntityIR`` to ``Topic``s (see ``generator.explain``). A transition reads
"An expense report can be submitted by its submitter, when it is in state draft and the number of
its lines is greater than 0." followed by where it goes, its effects, input and approvals.
"""

from __future__ import annotations

from generator.expr.english import to_english, to_english_condition
from generator.explain import RuleLine, Topic, rule_line
from generator.explain_phrases import (
    Who, a_noun, by_phrase, join, parse_rule, participle, roles_people, who_of,
)
from generator.ir.nodes import CommandIR, ConditionIR, EffectIR, EntityIR, FrozenIR, QueryIR

__all__ = ["command_topics"]


def _condition_line(c: ConditionIR, effect: str, noun: str) -> RuleLine:
    tree = parse_rule(c.text)
    english = to_english_condition(tree, record=f"the {noun}") if tree is not None else c.english
    return RuleLine(c.id, effect, c.text, english, c.source)


def _condition(c: ConditionIR | None) -> str | None:
    if c is None:
        return None
    tree = parse_rule(c.text)
    return to_english_condition(tree, record="it") if tree is not None else c.english


def _is_roles_rule(cmd: CommandIR, text: str) -> bool:
    return bool(cmd.roles) and text.startswith("roles: [")


def _who(cmd: CommandIR, noun: str) -> str | None:
    """Who may run the command (None: nobody), from its permission and ``roles:`` (both must hold)."""
    allows = [r.text for r in cmd.rules if r.effect == "allow" and not _is_roles_rule(cmd, r.text)]
    denies = [r.text for r in cmd.rules if r.effect == "deny" and not _is_roles_rule(cmd, r.text)]
    alternatives: list[Who] = []
    for text in allows:
        tree = parse_rule(text)
        alternatives += who_of(tree, noun) if tree is not None else [Who("a signed-in user", (text,))]
    if cmd.roles:
        roles = roles_people(cmd.roles)
        if not allows:
            alternatives = [Who(roles)]
        else:  # the permission and the roles must both hold
            alternatives = [Who(roles + w.people.removeprefix("any signed-in user"), w.when)
                            if w.people.startswith("any signed-in user")
                            else Who(f"{w.people} (who must also have the {join(list(cmd.roles), 'or')} role)", w.when)
                            for w in alternatives]
    if not alternatives:
        return None
    text = by_phrase(alternatives)
    for deny in denies:
        tree = parse_rule(deny)
        if tree is not None:
            text += f", unless {to_english_condition(tree, record='it')}"
    return text


def _states(states: tuple[str, ...], every: tuple[str, ...]) -> str:
    if len(states) == len(every) and len(every) > 1:
        return "in any state"
    return f"in state {join(list(states), 'or')}"


def _effect(effect: EffectIR) -> str:
    """``set: {rejection_reason: input.reason}`` -> "sets its rejection reason to the given reason"."""
    prefix = f"{effect.kind}: {{"
    body = effect.text[len(prefix):-1] if effect.text.startswith(prefix) and effect.text.endswith("}") else ""
    field, _, value = body.partition(": ")
    tree = parse_rule(value) if value else None
    if tree is None:
        return f"applies `{effect.text}`"
    what = to_english(tree, record="it")
    label = field.replace("_", " ")
    if effect.kind == "set":
        return f"sets its {label} to {what}"
    if effect.kind == "add":
        return f"adds {what} to its {label}"
    return f"removes {what} from its {label}"


def _input(cmd: CommandIR) -> str | None:
    if not cmd.input:
        return None
    parts = []
    for c in cmd.input:
        schema = c.json_schema
        detail = [c.spec_type, "required" if c.required_on_create else "optional"]
        low, high = schema.get("minLength"), schema.get("maxLength")
        if low is not None and high is not None:
            detail.append(f"{low} to {high} characters")
        parts.append(f"`{c.wire}` ({', '.join(detail)})")
    return f"The request body gives {join(parts)}."


def _approvals(cmd: CommandIR, noun: str) -> tuple[list[str], list[RuleLine], list[dict]]:
    approvals = cmd.approvals
    assert approvals is not None
    steps, lines, facts = [], [], []
    for step in approvals.steps:
        when = _condition(step.when)
        steps.append(f"{roles_people([step.role])}" + (f", only when {when}" if when else ", always"))
        facts.append({"role": step.role, "when": step.when.text if step.when else None})
        if step.when is not None:
            lines.append(_condition_line(step.when, "when", noun))
    sentences = [f"The approvals it needs: {'; '.join(f'({i + 1}) {s}' for i, s in enumerate(steps))}.",
                 "Each approver's call records their approval (202) until the last required one, which makes "
                 "the transition happen (200)."]
    if approvals.distinct:
        sentences.append("Every approval must come from a different person.")
    if approvals.exclude is not None:
        tree = parse_rule(approvals.exclude.text)
        people = to_english(tree, record="it") if tree is not None else approvals.exclude.text
        sentences.append(f"{people[0].upper()}{people[1:]} can never approve it (403).")
        lines.append(RuleLine(approvals.exclude.id, "exclude", approvals.exclude.text,
                              f"the current user is {people.replace('its ', f'the {noun}' + chr(39) + 's ', 1)}",
                              approvals.exclude.source))
    return sentences, lines, facts


def _command(e: EntityIR, cmd: CommandIR, noun: str) -> Topic:
    every = e.workflow.states if e.workflow else ()
    verb = participle(cmd.name)
    guard = _condition(cmd.guard)
    who = _who(cmd, noun)
    conditions = ([_states(cmd.sources, every)] if cmd.kind == "transition" else []) + ([guard] if guard else [])
    when = f", when {'it is ' if cmd.kind == 'transition' else ''}{join(conditions)}" if conditions else ""
    if cmd.kind == "transition" and conditions and guard:
        when = f", when it is {conditions[0]} and {guard}"
    elif cmd.kind == "action" and guard:
        when = f", when {guard}"
    if cmd.approvals is not None:
        first = f"{a_noun(noun).capitalize()} is {verb} once it has the required approvals{when}."
        if who is not None:
            first += f" Only {who} may approve."
    elif who is None:
        first = f"Nobody can {cmd.name.replace('_', ' ')} {a_noun(noun)}: no permission or roles allow it."
    else:
        first = f"{a_noun(noun).capitalize()} can be {verb} by {who}{when}."
    sentences = [first]
    if cmd.kind == "transition":
        sentences.append(f"It then moves to state {cmd.target}.")
    if cmd.effects:
        sentences.append(f"It {join([_effect(x) for x in cmd.effects])}.")
    if cmd.input:
        sentences.append(_input(cmd) or "")
    lines = [rule_line(r, noun) for r in cmd.rules]
    if cmd.guard is not None:
        lines.append(_condition_line(cmd.guard, "guard", noun))
        answer = "422" if cmd.guard.uses_input else "409 `guard_failed`"
        sentences.append(f"When the guard does not hold it answers {answer}.")
    facts: list[tuple[str, object]] = [("method", cmd.method), ("path", cmd.path), ("roles", list(cmd.roles)),
                                       ("input", [c.wire for c in cmd.input])]
    if cmd.kind == "transition":
        facts = [("from", list(cmd.sources)), ("to", cmd.target)] + facts
    if cmd.approvals is not None:
        more, extra, steps = _approvals(cmd, noun)
        sentences += more
        lines += extra
        facts += [("approvals", {"steps": steps, "distinct": cmd.approvals.distinct,
                                 "exclude": cmd.approvals.exclude.text if cmd.approvals.exclude else None})]
    if cmd.frozen:
        sentences.append(f"Its effects change frozen fields ({join(list(cmd.frozen))}): refused while a frozen "
                         "rule covers them.")
    title = f"{cmd.name}: {' | '.join(cmd.sources)} → {cmd.target}" if cmd.kind == "transition" else \
        f"{cmd.name} ({cmd.method} {cmd.path})"
    return Topic(cmd.kind, cmd.name, title, tuple(s for s in sentences if s), tuple(lines), tuple(facts), cmd.source,
                 cmd.description)


def _workflow(e: EntityIR, noun: str) -> list[Topic]:
    wf = e.workflow
    if wf is None:
        return []
    states = join([f"`{s}`" for s in wf.states])
    sentences = [f"{a_noun(noun).capitalize()}'s {wf.field.replace('_', ' ')} is one of {states}; a new {noun} "
                 f"starts in `{wf.initial}`.",
                 f"It changes only through its transitions: {join([f'`{t.name}`' for t in wf.transitions])}."]
    if wf.final:
        one = len(wf.final) == 1
        sentence = f"{join([f'`{s}`' for s in wf.final])} {'is a final state' if one else 'are final states'}"
        leaving = [f"`{t.name}`" for t in wf.transitions if set(t.sources) & set(wf.final)]
        if leaving:  # e.g. a transition from "*": say so rather than promise what the app does not do
            sentence += f"; {join(leaving)} can still start from {'it' if one else 'them'}"
        else:
            sentence += f": no transition leaves {'it' if one else 'them'}"
        sentences.append(sentence + ".")
    facts = (("field", wf.field), ("states", list(wf.states)), ("initial", wf.initial), ("final", list(wf.final)),
             ("transitions", [{"name": t.name, "from": list(t.sources), "to": t.target} for t in wf.transitions]))
    topics = [Topic("workflow", "workflow", f"workflow ({wf.field})", tuple(sentences), facts=facts, source=wf.source)]
    topics += [_command(e, t, noun) for t in wf.transitions]
    topics += [_frozen(fz, i, noun) for i, fz in enumerate(wf.frozen)]
    return topics


def _frozen(fz: FrozenIR, index: int, noun: str) -> Topic:
    fields = [c[:-3] if c.endswith("_id") else c for c in fz.columns] + [c[2] for c in fz.children] + list(fz.relations)
    names = join([f.replace("_", " ") for f in fields])
    sentence = f"While {a_noun(noun)} is {_states(fz.states, ())}, its {names} cannot be changed"
    if fz.return_to:
        sentence = (f"While {a_noun(noun)} is {_states(fz.states, ())}, changing its {names} sends it back to "
                    f"`{fz.return_to}` and voids its pending approvals.")
    else:
        sentence += " (409 `frozen_field`)."
    if fz.children:
        sentence += f" Its {join([c[2].replace('_', ' ') for c in fz.children])} cannot be created, changed or " \
                    "deleted either."
    name = f"frozen.{index + 1}"
    return Topic("frozen", name, f"frozen fields {index + 1}", (sentence,),
                 facts=(("states", list(fz.states)), ("fields", fields), ("return_to", fz.return_to)),
                 source=fz.source)


def _query(e: EntityIR, q: QueryIR, noun: str, plural: str) -> Topic:
    tree = parse_rule(q.where.text)
    where = to_english_condition(tree, record=f"the {noun}") if tree is not None else q.where.english
    order = [("-" if o.descending else "") + o.column for o in q.order]
    words = [f"{o.column.removesuffix('_id').replace('_', ' ')}{' (descending)' if o.descending else ''}"
             for o in q.order]
    sentences = [
        f"`GET {q.path}` lists the {plural} where {where}, sorted by {join(words, 'then')}.",
        f"Only {plural} the caller may list appear: the entity's list rule applies too.",
    ]
    return Topic("query", q.name, f"{q.name} (GET {q.path})", tuple(sentences),
                 (_condition_line(q.where, "where", noun),), (("path", q.path), ("order", order)), q.source,
                 q.description)


def command_topics(e: EntityIR, noun: str, plural: str) -> list[Topic]:
    return (_workflow(e, noun) + [_command(e, a, noun) for a in e.actions]
            + [_query(e, q, noun, plural) for q in e.queries])
