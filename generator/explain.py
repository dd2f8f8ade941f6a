"""``keel explain``: a spec's rules in plain English, built from the IR's expression ASTs.

``explain(ir)`` is a pure function from the IR to an ``Explanation``: per entity, a list of
``Topic``s (who may list, read, create, update, delete; each field's access and who manages it;
invariants; computed fields; the workflow and each transition; actions; queries; the audit trail;
notifications). Each topic holds whole English sentences (the first is its summary), the rules
behind them (id, effect, expression as written, English, spec location) and ``facts`` for tools.
``generator.explain_render`` prints one as text, Markdown or JSON; nothing here prints.

Sentences are built from the rules' ASTs (``generator.explain_phrases``): ``user == record.assignee``
reads "its assignee", so the tasks spec's ``start`` reads "A task can be started by its assignee,
when it is in state todo." A rule of a shape the phrases do not know is said as it is, in English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.expr.english import to_english, to_english_condition
from generator.explain_phrases import (
    Who, a_noun, by_phrase, join, parse_rule, record_noun, uses_user, who_of,
)
from generator.ir.nodes import AppIR, ColumnIR, EntityIR, FieldRuleIR, OperationRulesIR, RuleIR

__all__ = ["EntityExplanation", "Explanation", "RuleLine", "Topic", "UnknownTarget", "explain", "select",
           "permission_sentence", "rule_line"]

CRUD = ("list", "read", "create", "update", "delete")


@dataclass(frozen=True, slots=True)
class RuleLine:
    """One rule behind a topic's sentences."""

    id: str | None  # what a refusal names (None: a condition that is not a rule of its own)
    effect: str  # allow | deny | guard | when | exclude | check | expr | where | to
    expr: str  # as written in the spec
    english: str
    source: str


@dataclass(frozen=True, slots=True)
class Topic:
    kind: str  # operation | field | invariant | computed | workflow | transition | frozen | action | query | audit | notification
    name: str  # what ``keel explain SPEC Entity.name`` selects
    title: str
    sentences: tuple[str, ...]  # whole sentences; the first is the summary
    rules: tuple[RuleLine, ...] = ()
    facts: tuple[tuple[str, Any], ...] = ()  # JSON-ready values for tools (states, roles, ...)
    source: str = ""
    description: str = ""  # the spec's own description of it, if any


@dataclass(frozen=True, slots=True)
class EntityExplanation:
    name: str
    noun: str  # "expense report"
    description: str
    source: str
    topics: tuple[Topic, ...]

    def names(self) -> tuple[str, ...]:
        """The selectable topic names, in order, without repeats."""
        return tuple(dict.fromkeys(t.name for t in self.topics))


@dataclass(frozen=True, slots=True)
class Explanation:
    app: str
    title: str
    spec_file: str
    entities: tuple[EntityExplanation, ...]
    target: str | None = None  # what was selected ("Task", "Task.start"), None for everything


class UnknownTarget(Exception):
    """``keel explain SPEC Name[.topic]`` named nothing: the message lists what exists."""

    def __init__(self, message: str, valid: tuple[str, ...]) -> None:
        super().__init__(message)
        self.valid = valid


def rule_line(rule: RuleIR, noun: str) -> RuleLine:
    tree = parse_rule(rule.text)
    english = to_english_condition(tree, record=f"the {noun}") if tree is not None else rule.english
    return RuleLine(rule.id, rule.effect, rule.text, english, rule.source)


def _alternatives(texts: list[str], noun: str) -> list[Who]:
    out: list[Who] = []
    for text in texts:
        tree = parse_rule(text)
        out += who_of(tree, noun) if tree is not None else [Who("a signed-in user", (text,))]
    return out


def _unless(texts: list[str], noun: str) -> str:
    """Deny rules as a trailing clause: ", unless its status is done" / ", but never by its submitter"."""
    clauses = []
    for text in texts:
        tree = parse_rule(text)
        if tree is None:
            continue
        whos = who_of(tree, noun)
        if uses_user(tree) and all(not w.when and w.people != "a signed-in user" for w in whos):
            clauses.append("never by " + join([w.people for w in whos], "or"))
        else:
            clauses.append("unless " + to_english_condition(tree, record="it"))
    return "".join(f", {c}" for c in clauses)


def permission_sentence(noun: str, verb: str, allows: list[str], denies: list[str]) -> str:
    """``A task can be deleted by its creator or someone with the admin role, unless its status is done.``"""
    if not allows:
        return f"Nobody can {verb} {a_noun(noun)}: no rule allows it."
    return f"{a_noun(noun).capitalize()} can be {_PARTICIPLES.get(verb, verb)} by " \
           f"{by_phrase(_alternatives(allows, noun))}{_unless(denies, noun)}."


_PARTICIPLES = {"list": "listed", "read": "read", "create": "created", "update": "changed", "delete": "deleted"}
_AFTER = {
    "list": "Lists are filtered by {rule} in the database, so a list (its pages and counts) only ever holds "
            "the {plural} the caller may see.",
    "read": "To anyone else {a_noun} answers 404 not found, as if it did not exist.",
    "create": "Anyone else is refused with 403, naming the rule that decided; without signing in, 401.",
    "update": "Anyone else is refused with 403, naming the rule that decided; without signing in, 401.",
    "delete": "Anyone else is refused with 403, naming the rule that decided; without signing in, 401.",
}


def _operation(e: EntityIR, noun: str, plural: str, op: str, rules: OperationRulesIR | None) -> Topic:
    if rules is None:
        return Topic("operation", op, op, (f"There is no {op} endpoint: the operation is switched off for {plural}.",),
                     facts=(("enabled", False), ("access", "none")), source=e.source)
    if rules.access == "public":
        sentences = (f"Anyone can {op} {plural if op == 'list' else a_noun(noun)}, signed in or not (the rule is "
                     "`true`).",)
    elif rules.access == "denied":
        sentences = (f"Nobody can {op} {plural if op == 'list' else a_noun(noun)}: no rule allows it (403).",)
    else:
        allows = [r.text for r in rules.rules if r.effect == "allow"]
        denies = [r.text for r in rules.rules if r.effect == "deny"]
        first = permission_sentence(noun, op, allows, denies)
        if op == "list" and allows:
            first = first.replace(" can be listed by ", " appears in lists for ", 1)
        which = "the read rule" if op == "read" else "these rules" if len(rules.rules) > 1 else "this rule"
        sentences = (first, _AFTER[op].format(rule=which, plural=plural, a_noun=a_noun(noun)))
    lines = tuple(rule_line(r, noun) for r in rules.rules)
    source = lines[0].source if lines else e.source
    return Topic("operation", op, op, sentences, lines, (("enabled", True), ("access", rules.access)), source)


def _field_name(c: ColumnIR) -> str:
    return c.name[:-3] if c.spec_type == "ref" and c.name.endswith("_id") else c.name


def _field_rule_sentence(rule: FieldRuleIR, noun: str) -> str:
    label = _field_name_words(rule.attr)
    verb = "see" if rule.op == "read" else "set"
    if rule.python is None:
        return (f"Nobody can {verb} its {label}: the rule follows a relation, which cannot be decided on the loaded "
                f"row, so it is denied to everyone.")
    parts = rule.parts or (("allow", rule.text),)
    allows = [t for eff, t in parts if eff == "allow"]
    denies = [t for eff, t in parts if eff == "deny"]
    if not allows:
        return f"Nobody can {verb} its {label}: no rule allows it."
    who = by_phrase(_alternatives(allows, noun))
    if rule.op == "read":
        return f"Only {who} can see its {label}{_unless(denies, noun)}; for anyone else the field is absent."
    return f"Only {who} can set its {label}{_unless(denies, noun)}; anyone else who sends it gets 403."


def _field_rule_english(rule: FieldRuleIR, noun: str) -> str:
    """The field rule's own rules in English: "allow: ...; deny: ..." when there are several."""
    parts = rule.parts or (("allow", rule.text),)
    said = []
    for effect, text in parts:
        tree = parse_rule(text)
        english = to_english_condition(tree, record=f"the {noun}") if tree is not None else text
        said.append(english if len(parts) == 1 else f"{effect}: {english}")
    return "; ".join(said)


def _field_name_words(attr: str) -> str:
    return (attr[:-3] if attr.endswith("_id") else attr).replace("_", " ")


def _setters(e: EntityIR, attr: str) -> list[str]:
    commands = list(e.workflow.transitions if e.workflow else ()) + list(e.actions)
    return [f"`{c.name}`" for c in commands if any(x.kind == "set" and x.target == attr for x in c.effects)]


def _managed(e: EntityIR, c: ColumnIR, noun: str) -> str | None:
    """Who sets a field the client may not freely change, or None for an ordinary field."""
    kind = c.server_value
    if kind == "id":
        return f"Assigned by the server when {a_noun(noun)} is created."
    if kind == "created":
        return f"Set by the server when {a_noun(noun)} is created."
    if kind == "updated":
        return "Set by the server on every change."
    if kind == "deleted":
        return "Set by the server when the record is deleted (soft delete)."
    if kind == "current_user":
        return f"Set by the server to the user who creates the {noun}; clients cannot send it."
    if kind == "state":
        return "The workflow's state: it changes only through transitions (see the workflow)."
    if kind == "role":
        return "The user's role (from `auth.roles`); clients cannot set it through these endpoints."
    if kind == "version":
        return "The record's version, behind its ETag and If-Match; not a field of the JSON record."
    if c.spec_type == "password":
        return "Never shown: stored as an argon2 hash; clients send the plain password."
    if c.slug_from is not None:
        return f"Derived from its {c.slug_from.replace('_', ' ')}; clients cannot send it."
    if not c.on_create and not c.on_update:
        setters = _setters(e, c.name)
        by = f" (set by {join(setters)})" if setters else ""
        return f"Read-only: clients cannot send it; the server sets it{by}."
    if c.on_create and not c.on_update:
        return f"Can be set when {a_noun(noun)} is created, never changed afterwards."
    return None


def _fields(e: EntityIR, noun: str) -> list[Topic]:
    topics = []
    for c in e.columns:
        name = _field_name(c)
        sentences, lines = [], []
        for rule in (r for r in e.field_rules if r.attr == c.name):
            sentences.append(_field_rule_sentence(rule, noun))
            lines.append(RuleLine(rule.id, rule.op, rule.text, _field_rule_english(rule, noun), rule.source))
        managed = _managed(e, c, noun)
        if managed:
            sentences.append(managed)
        if not sentences:
            continue
        facts = (("type", c.spec_type), ("client_sets_on_create", c.on_create), ("client_sets_on_update", c.on_update),
                 ("readable", c.readable), ("server_value", c.server_value))
        topics.append(Topic("field", name, f"{name} ({c.spec_type})", tuple(sentences), tuple(lines), facts,
                            c.source or e.source))
    return topics


def _invariants(e: EntityIR, noun: str) -> list[Topic]:
    topics = []
    for inv in e.invariants:
        tree = parse_rule(inv.text)
        english = to_english_condition(tree, record=f"the {noun}") if tree is not None else inv.english
        where = (f"the database (CHECK constraint `{inv.constraint}`)" if inv.constraint
                 else "the app, on the row before it is written" if inv.python
                 else "the app, against the written row inside the transaction")
        sentences = (f"Every {noun} must satisfy: {english}.", f"Message: “{inv.message}”",
                     f"Enforced by {where}; a change that breaks it answers 422 `invariant_violated` and writes "
                     "nothing.")
        enforced = "check_constraint" if inv.constraint else "python" if inv.python else "sql"
        topics.append(Topic("invariant", inv.name, inv.name, sentences,
                            (RuleLine(inv.name, "check", inv.text, english, inv.source),),
                            (("message", inv.message), ("enforced_by", enforced)), inv.source))
    return topics


def _computed(e: EntityIR, noun: str) -> list[Topic]:
    topics = []
    for c in e.computed:
        tree = parse_rule(c.text)
        kind = c.spec_type + (f", {c.scale} decimal places" if c.scale is not None else "")
        if tree is None:
            english = c.text
        elif c.spec_type == "boolean":
            english = "true when " + to_english_condition(tree, record="it")
        else:
            english = to_english_condition(tree, record="it")
        sentences = [f"`{c.name}` ({kind}) is {english}.",
                     "Computed in SQL with every query that loads it." if c.sql else
                     "Computed from the loaded row (no portable SQL), so it cannot be filtered or sorted on."]
        usable = [w for w, ok in (("filtered", bool(c.filter_ops)), ("sorted", c.sortable)) if ok]
        if usable:
            sentences.append(f"Lists can be {' and '.join(usable)} on it.")
        topics.append(Topic("computed", c.name, f"{c.name} ({c.spec_type})", tuple(sentences),
                            (RuleLine(None, "expr", c.text, english, c.source),),
                            (("type", c.spec_type), ("filter_ops", list(c.filter_ops)), ("sortable", c.sortable)),
                            c.source))
    return topics


def _audit(e: EntityIR, noun: str, plural: str) -> Topic:
    if not e.audit:
        return Topic("audit", "audit", "audit", (f"Changes to {plural} are not recorded in the audit trail.",),
                     facts=(("audited", False),), source=e.source)
    sentences = [f"Every create, change and delete of {a_noun(noun)} is recorded in the append-only audit trail: "
                 "who, when, which rule allowed it, and each changed field's old and new value."]
    if "read" in e.operations:
        sentences.append(f"`GET {e.collection_path}/{{{e.lookup}}}/history` shows {a_noun(noun)}'s entries to those "
                         "who may read it.")
    if e.audit_redacted:
        sentences.append(f"Never recorded ({join([_field_name_words(a) for a in e.audit_redacted])}): stored as "
                         "“[redacted]”.")
    if e.audit_hidden:
        sentences.append(f"Recorded but shown as “[redacted]” by the history: "
                         f"{join([_field_name_words(a) for a in e.audit_hidden])} (they have a read rule).")
    return Topic("audit", "audit", "audit", tuple(sentences),
                 facts=(("audited", True), ("redacted", list(e.audit_redacted)), ("hidden", list(e.audit_hidden))),
                 source=e.source)


def _notifications(e: EntityIR, noun: str) -> list[Topic]:
    from generator.explain_phrases import participle

    topics = []
    for n in e.notifications:
        tree = parse_rule(n.to_text)
        to = to_english(tree, record="it") if tree is not None else n.to_text
        if n.event == "changed" and n.field:
            when = f"When its {_field_name_words(n.field)} changes"
        elif n.event == "transition":
            when = f"When {a_noun(noun)} is {join([participle(t) for t in n.transitions], 'or')}"
        else:
            when = f"When {a_noun(noun)} is {participle(n.event.removesuffix('d'))}"
        sentences = [f"{when}, {to} {'are' if to.startswith('its') and to.endswith('s') else 'is'} notified."]
        if n.message:
            sentences.append(f"Message: “{n.message}”")
        sentences.append("The notification is queued in the same transaction as the change.")
        topics.append(Topic("notification", n.name, n.name, tuple(sentences),
                            (RuleLine(None, "to", n.to_text, to, n.source),),
                            (("event", n.event), ("field", n.field), ("transitions", list(n.transitions)),
                             ("message", n.message)), n.source))
    return topics


def explain_entity(e: EntityIR) -> EntityExplanation:
    from generator.explain_commands import command_topics

    noun = record_noun(e.name)
    plural = e.plural.replace("_", " ")
    by_op = {r.op: r for r in e.rules}
    for op, access in e.access:  # before rules are attached (or a spec without auth): access only
        by_op.setdefault(op, OperationRulesIR(op, access, ()))
    topics = [_operation(e, noun, plural, op, by_op.get(op) if op in e.operations else None) for op in CRUD]
    topics += _fields(e, noun) + _invariants(e, noun) + _computed(e, noun)
    topics += command_topics(e, noun, plural)
    topics += [_audit(e, noun, plural)] + _notifications(e, noun)
    return EntityExplanation(e.name, noun, e.description, e.source, tuple(topics))


def explain(ir: AppIR) -> Explanation:
    return Explanation(ir.name, ir.title, ir.spec_file, tuple(explain_entity(e) for e in ir.entities))


def select(explanation: Explanation, target: str) -> Explanation:
    """Only ``Entity`` or the topics named ``Entity.name``; UnknownTarget lists the valid names."""
    entity_name, _, topic = target.partition(".")
    entity = next((e for e in explanation.entities if e.name == entity_name), None)
    if entity is None:
        names = tuple(e.name for e in explanation.entities)
        folded = next((e.name for e in explanation.entities if e.name.lower() == entity_name.lower()), None)
        hint = f" (did you mean `{folded}`?)" if folded else ""
        raise UnknownTarget(f"no entity `{entity_name}` in `{explanation.app}`{hint}; entities: "
                            f"{', '.join(names)}", names)
    if not topic:
        return Explanation(explanation.app, explanation.title, explanation.spec_file, (entity,), target)
    topics = tuple(t for t in entity.topics if t.name == topic)
    if not topics:
        names = entity.names()
        raise UnknownTarget(f"`{entity.name}` has nothing named `{topic}`; choose one of: {', '.join(names)}",
                            tuple(f"{entity.name}.{n}" for n in names))
    chosen = EntityExplanation(entity.name, entity.noun, entity.description, entity.source, topics)
    return Explanation(explanation.app, explanation.title, explanation.spec_file, (chosen,), target)
