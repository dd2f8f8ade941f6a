"""The spec's scenarios, resolved into requests: what each step sends, where, as whom, and what it must get.

A pass over a built IR (it needs the entities' paths and wire names). Field names
become wire keys (``project`` -> ``project_id``), ``$name`` values become markers the
generated test replaces with the record's id (``{"$id": "apollo"}``) or, in a path,
its lookup value (``{"$key": "apollo"}``), and ``$$text`` becomes the literal
``$text``. Nothing of the spec's text reaches generated code: the scenarios are data
(``tests/spec_scenarios.json``) that one generic test reads.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from generator.checks.scenarios import command_of, resolve_target
from generator.ir.nodes import AppIR, EntityIR
from generator.model.scenarios import Scenario, ScenarioStep, is_ref, ref_name
from generator.model.spec import Spec

__all__ = ["ExpectIR", "ScenarioIR", "ScenarioStepIR", "ScenarioUserIR", "attach_scenarios"]

_PARAM = re.compile(r"\{[^}]+\}")
_METHODS = {"list": "GET", "read": "GET", "create": "POST", "update": "PATCH", "delete": "DELETE", "query": "GET"}
_SUCCESS = {"create": 201, "delete": 204}


@dataclass(frozen=True, slots=True)
class ScenarioUserIR:
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class ExpectIR:
    status: int | None  # None: any 2xx (a given step without expect)
    count: int | None  # list and query: the number of items on the first page
    body: dict[str, Any] | None  # a subset of the answer (the problem document on a refusal); wire keys
    code: str | None  # problem+json code
    rule: str | None  # the refusing rule's id


@dataclass(frozen=True, slots=True)
class ScenarioStepIR:
    phase: str  # given | then
    text: str  # the step as written, e.g. "as ada: do $launch.start", for failure messages
    actor: str | None  # a scenario user; None: anonymous
    op: str  # list | read | create | update | delete | do | query
    entity: str
    method: str
    path: tuple[Any, ...]  # literal texts and {"$key": name} parts, joined by the test
    body: dict[str, Any] | None  # the JSON body (wire keys, {"$id": name} for records); None: no body
    params: dict[str, Any]
    envelope: str | None  # single records are wrapped in {envelope: ...}
    list_key: str  # list and query answers hold their items under this key
    save: str | None
    lookup: str  # the wire field whose value goes in the record's URL
    expect: ExpectIR
    source: str


@dataclass(frozen=True, slots=True)
class ScenarioIR:
    name: str
    description: str
    users: tuple[ScenarioUserIR, ...]
    steps: tuple[ScenarioStepIR, ...]
    source: str


def attach_scenarios(ir: AppIR, spec: Spec, where) -> AppIR:  # type: ignore[no-untyped-def]
    if not spec.scenarios:
        return ir
    entities = {e.name: e for e in ir.entities}
    scenarios = tuple(_scenario(ir, spec, entities, s, where) for s in spec.scenarios)
    return dataclasses.replace(ir, scenarios=tuple(sorted(scenarios, key=lambda s: s.name)))


def _scenario(ir: AppIR, spec: Spec, entities: dict[str, EntityIR], s: Scenario, where) -> ScenarioIR:  # type: ignore[no-untyped-def]
    user_entity = ir.auth.user_entity if ir.auth else ""
    records = {u.name: user_entity for u, _ in s.users}
    steps = []
    for step in s.steps:
        target = resolve_target(spec, step, records)
        assert target is not None  # the checks passed
        steps.append(_step(entities[target.entity.name], spec, step, target.record, target.command, where))
        if step.save is not None:
            records[step.save.name] = target.entity.name
    users = tuple(ScenarioUserIR(u.name, r.name) for u, r in s.users)
    return ScenarioIR(s.name, s.description, users, tuple(steps), where(s.pointer))


def _step(e: EntityIR, spec: Spec, step: ScenarioStep, record: str | None, command: str | None,  # type: ignore[no-untyped-def]
          where) -> ScenarioStepIR:
    op = step.op
    body: dict[str, Any] | None = None
    if op == "list":
        method, path = "GET", (e.collection_path,)
    elif op == "create":
        method, path, body = "POST", (e.collection_path,), _body(e, step.values)
    elif op == "query":
        ep = next(x for x in e.endpoints if x.kind == "query" and x.name == command)
        method, path = ep.method, (ep.path,)
    elif op == "do":
        kind, _ = command_of(spec.entity(e.name), command or "")  # type: ignore[misc]
        ep = next(x for x in e.endpoints if x.kind == kind and x.name == command)
        method, path = ep.method, _path(ep.path, record or "")
        cmd = next(c for c in (e.workflow.transitions if e.workflow else ()) + e.actions if c.name == command)
        wires = {c.name: c.wire for c in cmd.input}
        body = {wires.get(k, k): _value(v) for k, v in step.values.items()}
    else:
        ep = next(x for x in e.endpoints if x.kind == op)
        method, path = _METHODS[op], _path(ep.path, record or "")
        body = _body(e, step.values) if op == "update" else None
    x = step.expect
    expect = ExpectIR(
        status=x.status if x is not None else None,
        count=x.count if x is not None else None,
        body=_expected_body(e, x.body, x.status) if x is not None and x.body is not None else None,
        code=x.code if x is not None else None,
        rule=x.rule if x is not None else None,
    )
    actor = step.actor.name if step.actor else None
    return ScenarioStepIR(
        phase=step.phase,
        text=f"{step.phase}[{step.index}] as {actor or 'anonymous'}: {op} {step.target.name}",
        actor=actor, op=op, entity=e.name, method=method, path=path, body=body,
        params={k: _value(v) for k, v in step.params.items()},
        envelope=e.envelope_one if e.envelope else None,
        list_key=e.envelope_many if e.envelope else "items",
        save=step.save.name if step.save else None,
        lookup=next(c.wire for c in e.columns if c.name == e.lookup),
        expect=expect, source=where(step.pointer),
    )


def _path(template: str, record: str) -> tuple[Any, ...]:
    """``/api/tasks/{id}/start`` -> ("/api/tasks/", {"$key": record}, "/start")."""
    parts: list[Any] = []
    for i, text in enumerate(_PARAM.split(template)):
        if i:
            parts.append({"$key": record})
        if text:
            parts.append(text)
    return tuple(parts)


def _wire(e: EntityIR, name: str) -> str:
    """The wire key of a spec field (a ref is sent as its key column: ``project`` -> ``project_id``)."""
    for r in e.relations:
        if r.name == name and r.kind == "many_to_one" and r.fk_attribute:
            name = r.fk_attribute
            break
    for c in e.columns:
        if c.name == name:
            return c.wire
    for r in e.relations:
        if r.name == name:
            return r.wire
    for c in e.computed:
        if c.name == name:
            return c.wire
    return name


def _body(e: EntityIR, values: dict[str, Any]) -> dict[str, Any]:
    return {_wire(e, k): _value(v) for k, v in values.items()}


def _expected_body(e: EntityIR, values: dict[str, Any], status: int | None) -> dict[str, Any]:
    if status is not None and not 200 <= status < 300:
        return {k: _value(v) for k, v in values.items()}  # a problem document: its keys as written
    return _body(e, values)


def _value(value: Any) -> Any:
    """A scenario value as data: ``$name`` -> {"$id": name}; ``$$x`` -> "$x"; lists and mappings inside."""
    if is_ref(value):
        return {"$id": ref_name(value)}
    if isinstance(value, str) and value.startswith("$$"):
        return value[1:]
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    return value
