"""Checks of the spec's scenarios: every user, entity, operation, field and ``$name`` they use must exist.

A scenario is read step by step, as the generated test will run it: users exist from
the start (``$ada`` is a user of the auth entity), a ``create`` with ``save: x`` makes
``$x`` known to the later steps, and each step names exactly one operation the entity
serves. ``with`` values are checked against the field (or transition/action input)
types where that is cheap: strings, numbers, booleans, enum values, dates and refs to
a record of the right entity. When the scenarios are sound, ``scenario_coverage``
reports (K970) the rules they leave unexercised.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from generator.checks.context import CheckContext
from generator.loader.sourcemap import join_pointer
from generator.model.scenarios import Scenario, ScenarioStep, is_ref, ref_name
from generator.model.spec import Entity, Field, NameRef, Spec

__all__ = ["check_scenarios", "command_of", "resolve_target"]

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_STRINGS = ("string", "text", "email", "url", "slug", "password", "uuid")
_RECORD_OPS = ("read", "update", "delete", "do")  # the target is a saved record
_BODY_OPS = ("create", "update", "do")  # may send `with`


@dataclass(frozen=True)
class Target:
    """What a step acts on, resolved: the entity, and the transition/action/query name if any."""

    entity: Entity
    record: str | None  # the saved record's name (read, update, delete, do)
    command: str | None  # do: the transition or action; query: the query


def command_of(entity: Entity, name: str) -> tuple[str, Any] | None:
    """("transition", t) or ("action", a) named ``name`` on ``entity``."""
    if entity.workflow is not None:
        for t in entity.workflow.transitions:
            if t.name == name:
                return "transition", t
    for a in entity.actions:
        if a.name == name:
            return "action", a
    return None


def resolve_target(spec: Spec, step: ScenarioStep, records: dict[str, str]) -> Target | None:
    """The step's target, when it names known things (``records``: saved name -> entity)."""
    text = step.target.name
    if step.op in ("list", "create"):
        entity = spec.entity(text)
        return Target(entity, None, None) if entity else None
    if step.op == "query":
        name, _, query = text.partition(".")
        entity = spec.entity(name)
        return Target(entity, None, query) if entity else None
    if not is_ref(text):
        return None
    record, _, command = ref_name(text).partition(".")
    entity = spec.entity(records.get(record, ""))
    return Target(entity, record, command or None) if entity else None


def check_scenarios(ctx: CheckContext) -> None:
    spec = ctx.spec
    if not spec.scenarios:
        return
    before = len(ctx.diagnostics)
    for scenario in spec.scenarios:
        _Scenario(ctx, scenario).check()
    if len(ctx.diagnostics) == before:  # coverage is only meaningful for sound scenarios
        from generator.checks.scenario_coverage import report_coverage

        report_coverage(ctx)


class _Scenario:
    def __init__(self, ctx: CheckContext, scenario: Scenario) -> None:
        self.ctx, self.spec, self.scenario = ctx, ctx.spec, scenario
        self.records: dict[str, str] = {}  # $name -> entity
        self.users: set[str] = set()

    def check(self) -> None:
        s = self.scenario
        if not NAME.match(s.name):
            self.ctx.report("K579", f"scenario name `{s.name}` is not a snake_case name", s.pointer, at_key=True,
                            hint="use lowercase letters, digits and _: the name becomes the name of a test")
        auth = self.spec.auth
        roles = [r.name for r in auth.roles] if auth else []
        for user, role in s.users:
            if auth is None:
                self.ctx.report("K572", "scenario users need an auth section", user.pointer, at_key=True,
                                hint="declare auth: with roles, or drop the scenario's users")
                continue
            if not NAME.match(user.name):
                self.ctx.report("K579", f"user name `{user.name}` is not a snake_case name", user.pointer,
                                at_key=True, hint="use lowercase letters, digits and _, like ada or manager_2")
            if role.name not in roles:
                self.ctx.unknown("K572", "role", role, roles, "(roles come from auth.roles)")
            self.users.add(user.name)
            self.records[user.name] = auth.user.name
        for step in s.steps:
            self.step(step)

    # -- one step --
    def step(self, step: ScenarioStep) -> None:
        if len(step.ops) != 1:
            named = ", ".join(op for op, _ in step.ops) or "none"
            self.ctx.report("K579", f"a scenario step names exactly one operation (this one: {named})",
                            step.pointer, hint="one of list, read, create, update, delete, do, query per step")
            return
        if step.actor is not None and step.actor.name not in self.users:
            self.ctx.unknown("K571", "scenario user", step.actor, self.users, "(declare it under users:)")
        self._shape(step)
        target = self._target(step)
        if target is None:
            return
        self._values(step, target)
        self._expect(step, target)
        if step.save is not None and step.op == "create":
            if step.save.name in self.records:
                self.ctx.report("K579", f"`{step.save.name}` already names a user or a saved record",
                                step.save.pointer, hint="save each record under a new name")
            elif not NAME.match(step.save.name):
                self.ctx.report("K579", f"saved name `{step.save.name}` is not a snake_case name",
                                step.save.pointer, hint="use lowercase letters, digits and _")
            else:
                self.records[step.save.name] = target.entity.name

    def _shape(self, step: ScenarioStep) -> None:
        op = step.op
        if step.save is not None and op != "create":
            self.ctx.report("K579", "only a create step can save a record", step.save.pointer,
                            hint="save the record where it is created; later steps refer to it as $name")
        if step.values and op not in _BODY_OPS:
            self.ctx.report("K579", f"a {op} step sends no body: `with` is not allowed",
                            join_pointer(step.pointer, "with"), at_key=True, hint="use params: for list and query")
        if step.params and op not in ("list", "query"):
            self.ctx.report("K579", f"a {op} step has no query parameters: `params` is not allowed",
                            join_pointer(step.pointer, "params"), at_key=True)
        if step.phase == "then" and step.expect is None:
            self.ctx.report("K579", "a then step must say what it expects", step.pointer,
                            hint="add expect: <status> or expect: {status: ..., count: ...}")
        if step.expect is not None:
            e = step.expect
            if e.count is not None and op not in ("list", "query"):
                self.ctx.report("K579", "count is only for list and query steps", join_pointer(e.pointer, "count"))
            if step.phase == "then" and e.status is None:
                self.ctx.report("K579", "a then step's expect needs a status", e.pointer,
                                hint="write expect: {status: 200, ...}")

    def _target(self, step: ScenarioStep) -> Target | None:
        ref = step.target
        op = step.op
        if op in _RECORD_OPS:
            if not is_ref(ref.name):
                form = "$name.transition" if op == "do" else "$name"
                self.ctx.report("K579", f"{op}: takes a saved record, written `{form}`", ref.pointer,
                                hint="save the record in an earlier create step: save: name")
                return None
            record = ref_name(ref.name).partition(".")[0]
            if record not in self.records:
                self.ctx.unknown("K577", "record", NameRef(f"{record}", ref.pointer), self.records,
                                 "(save it in an earlier step, or declare a user)")
                return None
        elif op in ("list", "create") or op == "query":
            name = ref.name.partition(".")[0] if op == "query" else ref.name
            if self.spec.entity(name) is None:
                self.ctx.unknown("K573", "entity", NameRef(name, ref.pointer), (e.name for e in self.spec.entities))
                return None
        target = resolve_target(self.spec, step, self.records)
        assert target is not None  # every way it can fail was reported above
        e = target.entity
        if op == "do":
            if target.command is None or command_of(e, target.command) is None:
                names = [t.name for t in (e.workflow.transitions if e.workflow else ())] + [a.name for a in e.actions]
                self.ctx.unknown("K575", "transition or action", NameRef(target.command or "", ref.pointer), names,
                                 f"of {e.name}")
                return None
        elif op == "query":
            if not any(q.name == target.command for q in e.queries):
                self.ctx.unknown("K575", "query", NameRef(target.command or "", ref.pointer),
                                 (q.name for q in e.queries), f"of {e.name}")
                return None
        elif op not in e.operations:
            self.ctx.report("K574", f"{e.name} does not serve {op}", ref.pointer,
                            hint=f"{e.name}'s operations: {', '.join(e.operations)}")
            return None
        return target

    # -- values --
    def _fields(self, step: ScenarioStep, target: Target) -> dict[str, Field]:
        if step.op == "do":
            _, command = command_of(target.entity, target.command or "")  # type: ignore[misc]
            return {f.name: f for f in command.input}
        return {f.name: f for f in target.entity.fields}

    def _values(self, step: ScenarioStep, target: Target) -> None:
        fields = self._fields(step, target)
        what = f"input of {target.command}" if step.op == "do" else f"field of {target.entity.name}"
        for name, value in step.values.items():
            pointer = join_pointer(step.pointer, "with", name)
            f = fields.get(name)
            if f is None:
                self.ctx.unknown("K576", what.split(" of ")[0], NameRef(name, pointer), fields,
                                 f"of {what.split(' of ')[1]}")
                continue
            self._value(f, value, pointer)

    def _value(self, f: Field, value: Any, pointer: str) -> None:
        if value is None:
            return  # null: the app decides (required fields answer 422)
        if f.type in ("ref", "many"):
            items = value if f.type == "many" and isinstance(value, list) else [value]
            for item in items:
                if not is_ref(item):
                    self._wrong(f, value, pointer, "a saved record or user, written $name")
                    return
                entity = self.records.get(ref_name(item))
                if entity is None:
                    self.ctx.unknown("K577", "record", NameRef(ref_name(item), pointer), self.records,
                                     "(save it in an earlier step, or declare a user)")
                elif f.to is not None and entity != f.to.name:
                    self._wrong(f, value, pointer, f"a {f.to.name} ({item} is a {entity})")
            return
        if is_ref(value):
            self._wrong(f, value, pointer, f"a {f.type} value ($name is a record)")
            return
        if not _fits(f, value):
            expected = f"one of {', '.join(f.values)}" if f.type == "enum" else f"a {f.type}"
            self._wrong(f, value, pointer, expected)

    def _wrong(self, f: Field, value: Any, pointer: str, expected: str) -> None:
        self.ctx.report("K578", f"`{f.name}` takes {expected}, not {value!r}", pointer,
                        hint="fix the value; to test a refusal of bad input, use the API tests instead")

    def _expect(self, step: ScenarioStep, target: Target) -> None:
        e = step.expect
        if e is None or e.body is None:
            return
        returns_record = step.op in ("read", "create", "update", "do")
        success = e.status is None or 200 <= e.status < 300
        known = {f.name for f in target.entity.fields} | {c.name for c in target.entity.computed}
        for name, value in e.body.items():
            pointer = join_pointer(e.pointer, "body", name)
            if returns_record and success and name not in known:
                self.ctx.unknown("K576", "field", NameRef(name, pointer), known, f"of {target.entity.name}")
            for item in value if isinstance(value, list) else [value]:
                if is_ref(item) and ref_name(item) not in self.records:
                    self.ctx.unknown("K577", "record", NameRef(ref_name(item), pointer), self.records,
                                     "(save it in an earlier step, or declare a user)")


def _fits(f: Field, value: Any) -> bool:
    if f.type in _STRINGS or f.type == "json":
        return f.type == "json" or isinstance(value, str)
    if f.type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if f.type == "decimal":
        if isinstance(value, bool):
            return False
        try:
            Decimal(str(value))
        except InvalidOperation:
            return False
        return isinstance(value, (int, float, str))
    if f.type == "boolean":
        return isinstance(value, bool)
    if f.type == "enum":
        return value in f.values
    if f.type in ("date", "datetime"):
        if not isinstance(value, str):
            return False
        try:
            (datetime.date if f.type == "date" else datetime.datetime).fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return True
