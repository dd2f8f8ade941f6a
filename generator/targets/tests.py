"""The generated app's own test suite (``tests/`` in the output): view-models for its templates.

Everything a generated test asserts is decided here, in Python: the records each test
sets up and who creates them (``generator.targets.scenarios``), valid and invalid values
for every field (``generator.targets.samples``), which filters, sorts and includes exist
and what they must return, and the status each user gets for each operation. The
templates under ``templates/app/tests/`` only print these cases.

The suite is organised per entity, then per endpoint kind (``list``, ``read``, ``create``,
``update``, ``delete``): each kind contributes its own cases to the entity's modules, so
the endpoints still to come (actions, transitions, named queries) add a kind each. A case
the simulation cannot decide (a rule that reads the clock or a computed field, a pattern
no sample can be made for) is left out, never generated as a test that cannot pass.

Two modules per entity:

* ``test_<entity>.py`` shares one set of records per module (built once) and never changes
  it: lists, filters, sorts, pagination, includes, reads, and every refused write (each
  also checks that the database is unchanged);
* ``test_<entity>_changes.py`` starts each test from an empty database: writes that succeed.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass, field
from typing import Any

from generator.ir.nodes import AppIR, ColumnIR, EntityIR
from generator.naming import camel
from generator.targets.app import router_context
from generator.targets.samples import (
    NoSample, filter_text_invalid, invalid_samples, json_value, py_source, sample,
)
from generator.targets.scenarios import (
    NoScenario, Outcome, Persona, Planner, Rec, Step, Undetermined, World, access, expected_change, expected_create,
    expected_read, has_field_rule, invariants_hold, personas_of, visible,
)

__all__ = ["EntitySuite", "build_suite", "suite_files"]

TEST_PASSWORD = "correct horse battery staple 42"  # every persona's password (hashed once per test run)
BULK = 3  # records of an entity in the shared world: enough for a page of 2 and a next cursor
ABSENT_ID = {"uuid.UUID": "00000000-0000-4000-8000-00000000dead", "int": "987654321"}


def _key(ir: AppIR, name: str) -> str:
    return camel(name) if ir.wire_names == "camelCase" else name


# --- scenarios as Python source -----------------------------------------------------------------


@dataclass
class Scenario:
    name: str  # a constant in tests/scenarios.py
    steps: list[Step]
    world: World


def _step_json(ir: AppIR, step: Step) -> dict[str, Any]:
    """One step of a scenario as tests/scenarios.json holds it (see Step in the generated tests/support.py)."""
    e = next(x for x in ir.entities if x.name == step.entity)
    out: dict[str, Any] = {"handle": step.handle, "entity": step.entity, "via": step.via, "actor": step.actor}
    if step.via == "api":
        out.update(path=e.collection_path, body=step.body, envelope=e.envelope_one if e.envelope else None,
                   lookup=next(c.wire for c in e.columns if c.name == e.lookup))
    else:
        out.update(values=json_value(step.values), lookup=e.lookup)
    if step.refs:
        out["refs"] = step.refs
    return out


# --- values in query strings ------------------------------------------------------------------


def _text(value: Any) -> str:
    """A stored value as a client writes it in a query string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


class _Absent:
    """Stands for the id of a record that does not exist, in a filter value."""


_ABSENT = _Absent()


def _query_value(c: ColumnIR, values: list[Any]) -> list[Any]:
    """A query-string value as parts joined by commas: text, or {"id": handle} for a record made by the test."""
    if c.foreign_key is not None:
        absent = ABSENT_ID["int" if c.py_type == "int" else "uuid.UUID"]
        return [{"id": v} if not isinstance(v, _Absent) else absent for v in values]
    return [_text(v) for v in values]


def _kind(c: ColumnIR) -> str:
    """How the tests compare values of a column when they check an order."""
    if c.spec_type in ("ref", "id"):
        return "int" if c.py_type == "int" else "text"
    return {"int": "int", "decimal.Decimal": "decimal", "datetime.date": "date", "datetime.datetime": "datetime",
            "bool": "bool"}.get(c.py_type, "text")


# --- the suite --------------------------------------------------------------------------------


@dataclass
class EntitySuite:
    """Everything the two test modules of one entity print."""

    name: str
    module: str
    path: str
    lookup_wire: str
    envelope_one: str | None
    list_key: str
    next_key: str | None
    count_key: str | None
    id_is_int: bool
    operations: tuple[str, ...]
    page_max: int
    others: list[EntitySuite] = field(default_factory=list)  # the suites of the entities planned before
    world: str | None = None  # scenario of the shared world
    target: str | None = None  # handle of the record the read/refusal tests work on
    actor: str | None = None  # who created it
    lister: str | None = None
    cases: dict[str, Any] = field(default_factory=dict)


def build_suite(ir: AppIR) -> dict[str, Any]:
    """The whole suite: personas, scenarios and per-entity cases."""
    personas = personas_of(ir)
    scenarios: list[Scenario] = []
    base = Planner(ir, personas=personas)
    try:
        persona_steps = base.add_personas()
    except NoScenario:
        persona_steps, personas = [], []
        base = Planner(ir, personas=[])
    entities: list[EntitySuite] = []
    for e in ir.entities:
        entities.append(_entity_suite(ir, e, base, scenarios, entities))
    return {
        "personas": [{"handle": p.handle, "role": p.role, "step": _step_json(ir, s)}
                     for p, s in zip(personas, persona_steps)],
        "scenarios": {s.name: [_step_json(ir, step) for step in s.steps] for s in scenarios},
        "entities": entities,
        "auth": _auth_cases(ir, base, personas),
    }


def _fresh(base: Planner) -> Planner:
    return Planner(base.ir, base.world.copy(), base.personas)


def _entity_suite(ir: AppIR, e: EntityIR, base: Planner, scenarios: list[Scenario],
                  others: list[EntitySuite]) -> EntitySuite:
    context = router_context(ir, e, "")
    suite = EntitySuite(
        name=e.name, module=e.module, path=e.collection_path,
        lookup_wire=next(c.wire for c in e.columns if c.name == e.lookup),
        envelope_one=e.envelope_one if e.envelope else None,
        list_key=context["list_key"],
        next_key=context["next_key"] if e.pagination == "cursor" else None,
        count_key=context["count_key"] if e.pagination == "offset" else None,
        id_is_int=e.id_strategy == "integer",
        operations=e.operations,
        page_max=ir.page_size_max,
        others=list(others),
    )
    suite.cases.update(dict.fromkeys(("list", "read", "refusals", "new", "change", "create_bodies", "update_bodies",
                                      "delete_stale", "changes")))
    suite.cases["absent_key"] = _absent_key(e)
    suite.cases["malformed_key"] = None if e.lookup != "id" else ("abc" if suite.id_is_int else "not-a-uuid")
    suite.cases["denied"] = [op for op in e.operations if access(e, op) == "denied"]
    # The shared world: the personas, then BULK records of the entity (and their parents).
    shared = _fresh(base)
    try:
        records = _bulk(shared, e)
    except NoScenario:
        records = []
    if records:
        name = f"{e.module.upper()}_WORLD"
        scenarios.append(Scenario(name, shared.steps, shared.world))
        suite.world = name
        target = records[0]
        suite.target, suite.actor = target.handle, target.actor
        _list_cases(ir, e, shared, suite, context)
        _read_cases(ir, e, shared, suite)
        _refusal_cases(ir, e, shared, suite, target)
        _body_cases(ir, e, shared, suite, target)
    _change_cases(ir, e, base, suite, scenarios)
    return suite


def _absent_key(e: EntityIR) -> str:
    column = next(c for c in e.columns if c.name == e.lookup)
    if column.spec_type == "id":
        return ABSENT_ID.get(column.py_type, "987654321")
    return "no-such-" + e.module.replace("_", "-")


def _bulk(planner: Planner, e: EntityIR) -> list[Rec]:
    """BULK records of ``e`` sharing their parents; optional fields are null on every third."""
    if e.name == planner.user_entity and not _creatable(planner, e):
        rows = planner.world.rows(e.name)
        return rows if len(rows) >= 1 else []
    actor = planner.personas[0].handle if planner.personas else None
    first = planner.plan(e.name, actor)
    fixed = {c.name: first.values[c.name] for c in e.columns
             if c.foreign_key is not None and c.on_create and first.values.get(c.name) is not None}
    out = [first]
    for i in range(1, BULK):
        out.append(planner.plan(e.name, first.actor if first.actor else actor, fixed, nulls=i % 3 == 2))
    # One child per to-many include, so embedding it shows something.
    for r in e.relations:
        if r.kind == "one_to_many" and r.includable:
            child = planner.entity(r.target)
            via = next((x for x in child.relations if x.name == r.back_populates), None)
            if via is None or via.fk_attribute is None:
                continue
            try:
                trial = Planner(planner.ir, planner.world.copy(), planner.personas)
                trial.plan(child.name, first.actor, {via.fk_attribute: first.handle})
            except NoScenario:
                continue
            planner.plan(child.name, first.actor, {via.fk_attribute: first.handle})
    return out


def _creatable(planner: Planner, e: EntityIR) -> bool:
    return "create" in e.operations and access(e, "create") != "denied"


def _persona_recs(planner: Planner) -> list[tuple[str | None, Rec | None]]:
    return [(p.handle, planner.world.get(p.handle)) for p in planner.personas] + [(None, None)]


def _try(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except Undetermined:
        return None


# --- lists --------------------------------------------------------------------------------------


def _list_cases(ir: AppIR, e: EntityIR, planner: Planner, suite: EntitySuite, context: dict) -> None:
    if "list" not in e.operations:
        return
    world = planner.world
    kind = access(e, "list")
    if kind == "denied":
        return
    rows = world.rows(e.name)
    # Who sees what: every persona and an anonymous client.
    seen: list[dict[str, Any]] = []
    for handle, user in _persona_recs(planner):
        shown = [r.handle for r in rows if _try(visible, world, e, "list", r, user) is True]
        hidden = [r.handle for r in rows if _try(visible, world, e, "list", r, user) is False]
        if len(shown) + len(hidden) == len(rows):
            seen.append({"persona": handle, "expect": shown})
    if not seen:
        return
    lister = max(seen, key=lambda s: (len(s["expect"]), s["persona"] == suite.actor))
    suite.lister = lister["persona"]
    population = [world.get(h) for h in lister["expect"]]
    cases: dict[str, Any] = {"seen": seen, "all": lister["expect"], "max": ir.page_size_max,
                             "default": ir.page_size_default, "pagination": e.pagination}
    cases["filters"] = _filter_cases(e, population)
    cases["bad_filters"] = _bad_filter_cases(e)
    sort_keys = {k.wire: k for k in context["sort_keys"]}
    columns = {c.wire: c for c in e.columns}
    id_kind = "int" if suite.id_is_int else "text"
    sorts = []
    page_sorts: dict[tuple, str] = {}  # one paginated sort per kind of key and direction
    for wire in sort_keys:
        c = columns.get(wire)
        if c is None or has_field_rule(e, c.name, "read"):
            continue  # a field some users may not see is absent from their items: its order cannot be checked
        for descending in (False, True):
            keys = [(wire, _kind(c), descending)] + ([("id", id_kind, False)] if wire != "id" else [])
            sorts.append({"param": ("-" if descending else "") + wire, "keys": keys})
            page_sorts.setdefault((_kind(c), c.nullable, descending), ("-" if descending else "") + wire)
    cases["sorts"] = sorts
    cases["page_sorts"] = list(page_sorts.values())
    default_keys = []
    for part in context["default_sort"].split(","):
        wire = part.lstrip("-")
        if wire in columns:
            default_keys.append((wire, _kind(columns[wire]), part.startswith("-")))
    if default_keys and default_keys[-1][0] != "id":
        default_keys.append(("id", id_kind, False))
    hidden = any(has_field_rule(e, columns[w].name, "read") for w, _, _ in default_keys)
    cases["default_keys"] = None if hidden else default_keys
    cases["other_sort"] = "-id"
    cases["includes"] = _include_cases(e, planner, population, lister["persona"])
    suite.cases["list"] = cases


def _filter_cases(e: EntityIR, population: list[Rec]) -> list[dict[str, Any]]:
    """Filter parameters with a value and the records they must return (expected computed with SQL semantics)."""
    cases = []
    for c in e.columns:
        for op in c.filter_ops:
            param = c.wire if op == "eq" else f"{c.wire}__{op}"
            for values, expect in _filter_values(c, op, population):
                cases.append({"param": param, "value": _query_value(c, values), "expect": expect})
    return cases


def _filter_values(c: ColumnIR, op: str, population: list[Rec]) -> list[tuple[list[Any], list[str]]]:
    if any(c.name not in r.values for r in population):
        return []  # a value the simulation does not know (a timestamp): no expectation
    present = [r.values[c.name] for r in population if r.values[c.name] is not None]
    distinct = list(dict.fromkeys(present))
    handles = [(r.handle, r.values[c.name]) for r in population]
    out: list[tuple[list[Any], list[str]]] = []
    if op == "eq":
        if distinct:
            out.append(([distinct[0]], [h for h, v in handles if v is not None and v == distinct[0]]))
        absent = _absent_value(c, distinct)
        if absent is not None:
            out.append(([absent], []))
    elif op == "in":
        if len(distinct) >= 2:
            pick = distinct[:2]
            out.append((pick, [h for h, v in handles if v is not None and v in pick]))
        elif distinct and c.foreign_key is not None:  # one record and one that does not exist
            out.append(([distinct[0], _ABSENT], [h for h, v in handles if v == distinct[0]]))
    elif op == "contains":
        if distinct and isinstance(distinct[0], str) and len(distinct[0]) >= 2:
            part = distinct[0][-2:]
            exact = [h for h, v in handles if v is not None and part in v]
            folded = [h for h, v in handles if v is not None and part.lower() in v.lower()]
            if exact == folded:  # SQLite's LIKE ignores ASCII case, PostgreSQL's does not
                out.append(([part], exact))
    elif distinct and c.foreign_key is None:
        ordered = sorted(distinct)
        pivot = ordered[len(ordered) // 2]
        test = {"gt": lambda v: v > pivot, "gte": lambda v: v >= pivot, "lt": lambda v: v < pivot,
                "lte": lambda v: v <= pivot}[op]
        out.append(([pivot], [h for h, v in handles if v is not None and test(v)]))
    return out


def _absent_value(c: ColumnIR, present: list[Any]) -> Any:
    """A valid value of the column that no record has (for a filter that must match nothing)."""
    if c.foreign_key is not None:
        return _ABSENT  # the id of no record
    if c.spec_type == "enum":
        return next((v for v in c.json_schema["enum"] if v not in present), None)
    if c.spec_type == "boolean":
        return next((v for v in (True, False) if v not in present), None)
    for n in range(90, 100):
        try:
            candidate = sample(c, n).python
        except NoSample:
            return None
        if candidate not in present:
            return candidate
    return None


def _bad_filter_cases(e: EntityIR) -> list[dict[str, str]]:
    out = []
    for c in e.columns:
        for op in c.filter_ops:
            if op in ("contains",):
                continue
            parser = "parse_uuid" if c.spec_type in ("ref", "id") and c.py_type == "uuid.UUID" else (
                "parse_int" if c.spec_type in ("ref", "id") else {
                    "integer": "parse_int", "decimal": "parse_decimal", "boolean": "parse_bool",
                    "date": "parse_date", "datetime": "parse_datetime", "uuid": "parse_uuid"}.get(c.spec_type))
            text = filter_text_invalid(parser) if parser else None
            if text is not None:
                out.append({"param": c.wire if op == "eq" else f"{c.wire}__{op}", "value": text})
    return out


def _include_cases(e: EntityIR, planner: Planner, population: list[Rec], lister: str | None) -> list[dict]:
    world = planner.world
    user = world.get(lister) if lister else None
    out = []
    for r in e.relations:
        if not r.includable:
            continue
        target = planner.entity(r.target)
        expect: dict[str, Any] = {}
        try:
            for rec in population:
                if r.kind == "many_to_one":
                    related = rec.values.get(r.fk_attribute or "")
                    if related is not None and not visible(world, target, "read", world.get(related), user):
                        related = None
                    expect[rec.handle] = related
                elif r.kind == "one_to_many":
                    via = next(x for x in target.relations if x.name == r.back_populates)
                    children = [x for x in world.rows(target.name) if x.values.get(via.fk_attribute) == rec.handle]
                    expect[rec.handle] = [x.handle for x in children if visible(world, target, "read", x, user)]
                else:
                    expect[rec.handle] = []  # many-to-many links are never made by the CRUD endpoints
        except (Undetermined, StopIteration):
            continue
        out.append({"name": r.wire, "to_many": r.kind != "many_to_one",
                    "fk": next((c.wire for c in e.columns if c.name == r.fk_attribute), None), "expect": expect})
    return out


# --- reads --------------------------------------------------------------------------------------


def _read_cases(ir: AppIR, e: EntityIR, planner: Planner, suite: EntitySuite) -> None:
    if "read" not in e.operations or access(e, "read") == "denied":
        return
    world = planner.world
    target = world.get(suite.target)
    reader = None
    for handle, user in _persona_recs(planner):
        if _try(expected_read, world, e, target, user) == Outcome(200):
            reader = handle
            break
    else:
        return
    api_made = any(s.handle == suite.target and s.via == "api" for s in planner.steps)
    if any(r.op == "read" for r in getattr(e, "field_rules", ())) and reader != target.actor:
        api_made = False  # the creator and the reader may see different fields
    includes = _include_cases(e, planner, [target], reader) if reader is not None or not planner.personas else []
    suite.cases["read"] = {"reader": reader, "compare_created": api_made, "includes": includes,
                           "stored": _stored_wires(e)}


# --- refusals: who may not do what --------------------------------------------------------------


def _stored_wires(e: EntityIR) -> list[str]:
    """Fields every reader sees as stored: not computed (a total moves when children are added), not guarded."""
    return [c.wire for c in e.columns if c.readable and not has_field_rule(e, c.name, "read")]


def _update_change(planner: Planner, e: EntityIR, record: Rec) -> tuple[ColumnIR, Any] | None:
    """A field to change and its new (valid, different) value, for a PATCH that should succeed."""
    auth = planner.ir.auth
    skip = {auth.active, auth.identity} if auth and e.name == auth.user_entity else set()

    def rank(c: ColumnIR) -> int:
        return {"string": 0, "text": 1, "enum": 2, "integer": 3, "decimal": 3, "date": 4}.get(c.spec_type, 9)

    candidates = sorted((c for c in e.columns if c.on_update and c.foreign_key is None and not c.unique
                         and c.spec_type not in ("password", "json") and c.name not in skip
                         and not has_field_rule(e, c.name)), key=rank)
    for c in candidates:
        for n in range(7, 12):
            try:
                s = sample(c, n)
            except NoSample:
                break
            if s.python == record.values.get(c.name):
                continue
            changed = Rec(record.handle, record.entity, {**record.values, c.name: s.python}, record.actor)
            world = planner.world.copy()
            world.records = [changed if r.handle == record.handle else r for r in world.records]
            try:
                if invariants_hold(world, e, changed):
                    return c, s
            except Undetermined:
                pass
    return None


def _refusal_cases(ir: AppIR, e: EntityIR, planner: Planner, suite: EntitySuite, target: Rec) -> None:
    """Every persona (and an anonymous client) against the target record: the refusals they must get."""
    world = planner.world
    cases: list[dict[str, Any]] = []
    change = _update_change(planner, e, target)
    new = _new_record(planner, e, target)
    for handle, user in _persona_recs(planner):
        if "read" in e.operations:
            outcome = _try(expected_read, world, e, target, user)
            if outcome is not None:
                cases.append({"persona": handle, "op": "read", **_outcome(outcome)})
        if "update" in e.operations and change is not None:
            outcome = _try(expected_change, world, e, "update", target, user, (change[0].name,))
            if outcome is not None and outcome.status >= 400:
                cases.append({"persona": handle, "op": "update", **_outcome(outcome),
                              "body": {change[0].wire: change[1].wire}})
        if "delete" in e.operations:
            outcome = _try(expected_change, world, e, "delete", target, user)
            if outcome is not None and outcome.status >= 400:
                cases.append({"persona": handle, "op": "delete", **_outcome(outcome)})
        if "create" in e.operations and new is not None:
            body, refs, values = new
            stored = planner._with_server_values(e, {**values, **{a: h for a, h in refs.items()}}, handle)
            outcome = _try(expected_create, world, e, Rec("(new)", e.name, stored, handle), user, tuple(values))
            if outcome is not None and outcome.status >= 400:
                cases.append({"persona": handle, "op": "create", **_outcome(outcome)})
    # A refused write is checked once per distinct answer (the first user who gets it): the others
    # would repeat the same request and answer, and a create may cost a password hash each.
    distinct: dict[tuple, dict[str, Any]] = {}
    for case in cases:
        key = (case["op"], case["status"], case["code"], case["rule"]) if case["op"] != "read" else (id(case),)
        distinct.setdefault(key, case)
    suite.cases["refusals"] = list(distinct.values())
    if new is not None:
        body, refs, _ = new
        suite.cases["new"] = {"body": body,
                              "refs": {next(c.wire for c in e.columns if c.name == a): h for a, h in refs.items()}}
    if change is not None:
        suite.cases["change"] = {"wire": change[0].wire, "value": change[1].wire}


def _outcome(outcome: Outcome) -> dict[str, Any]:
    return {"status": outcome.status, "code": outcome.code, "rule": outcome.rule, "body": None}


def _new_record(planner: Planner, e: EntityIR, target: Rec) -> tuple[dict, dict, dict] | None:
    """A valid body for one more record with the target's parents: (body, refs attribute -> handle, values)."""
    if "create" not in e.operations:
        return None
    try:
        body, values = planner.body_for(e, 50)
    except NoScenario:
        return None
    refs = {c.name: target.values[c.name] for c in e.columns
            if c.foreign_key is not None and c.on_create and target.values.get(c.name) is not None}
    return body, refs, values


# --- bodies that must be refused -------------------------------------------------------------------


def _body_cases(ir: AppIR, e: EntityIR, planner: Planner, suite: EntitySuite, target: Rec) -> None:
    """Invalid create and update bodies, sent by someone the access rules do not stop first."""
    world = planner.world
    view_server = sorted(c.wire for c in e.columns if not c.on_create and not c.on_update and c.readable)
    write_once = sorted(c.wire for c in e.columns if c.on_create and not c.on_update)
    new = suite.cases.get("new")
    if "create" in e.operations and access(e, "create") != "denied" and new is not None:
        _, refs, values = _new_record(planner, e, target) or ({}, {}, {})
        poster = _allowed_creator(planner, e, refs, values)
        fields = []
        for c in e.columns:
            if not c.on_create:
                continue
            for why, value in invalid_samples(c):
                fields.append({"wire": c.wire, "why": why.replace(" ", "-"), "value": value})
        missing = [c.wire for c in e.columns if c.on_create and c.required_on_create and not c.has_default
                   and not c.nullable]
        allowed = poster is not None or not planner.personas
        if poster is None and planner.personas:
            poster = planner.personas[0].handle  # refused anyway; signed in, so the body is what is judged
        cases: dict[str, Any] = {"poster": poster, "server": view_server, "invalid": fields, "missing": missing,
                                 "refs": _absent_refs(e, "on_create"), "unique": []}
        if allowed:  # a clash is found when the row is written, after the access checks
            cases["unique"] = _unique_clash(e, target, planner)
        suite.cases["create_bodies"] = cases
    if "update" in e.operations and access(e, "update") != "denied" and suite.cases.get("change"):
        change = _update_change(planner, e, target)
        sent = (change[0].name,) if change else ()
        updater = next((h for h, u in _persona_recs(planner)
                        if _try(expected_change, world, e, "update", target, u, sent) == Outcome(200)), "(none)")
        fields = []
        for c in e.columns:
            if not c.on_update:
                continue
            for why, value in invalid_samples(c):
                if why == "null" and c.nullable:
                    continue
                fields.append({"wire": c.wire, "why": why.replace(" ", "-"), "value": value})
        signed_in = planner.personas[0].handle if planner.personas else None
        suite.cases["update_bodies"] = {
            "updater": signed_in if updater == "(none)" else updater, "determined": updater != "(none)",
            "server": view_server, "write_once": write_once, "invalid": fields,
            "refs": _absent_refs(e, "on_update"),
        }
    if "delete" in e.operations and access(e, "delete") != "denied":
        deleter = next((h for h, u in _persona_recs(planner)
                        if _try(expected_change, world, e, "delete", target, u) == Outcome(204)), "(none)")
        if deleter != "(none)":
            suite.cases["delete_stale"] = {"deleter": deleter}


def _absent_refs(e: EntityIR, flag: str) -> list[dict[str, str]]:
    """Reference fields a client may send, each with an id no record has."""
    return [{"wire": c.wire, "absent": 987654321 if c.py_type == "int" else ABSENT_ID["uuid.UUID"]}
            for c in e.columns if c.foreign_key is not None and getattr(c, flag)]


def _allowed_creator(planner: Planner, e: EntityIR, refs: dict[str, str], values: dict[str, Any]) -> str | None:
    for handle, user in _persona_recs(planner):
        stored = planner._with_server_values(e, {**values, **refs}, handle)
        outcome = _try(expected_create, planner.world, e, Rec("(new)", e.name, stored, handle), user, tuple(values))
        if outcome == Outcome(201):
            return handle
    return None


def _unique_clash(e: EntityIR, target: Rec, planner: Planner) -> list[dict[str, Any]]:
    """Unique fields (and groups) a new record can copy from the target to clash with it: 409 naming them."""
    wires = {c.name: c.wire for c in e.columns}
    groups = [(c.name,) for c in e.columns if c.unique and c.on_create] + [u.columns for u in e.unique_constraints]
    out = []
    for group in groups:
        columns = [next(c for c in e.columns if c.name == attr) for attr in group]
        if any(c.foreign_key is None and not c.on_create for c in columns):
            continue  # a server-made value (a slug) the client cannot repeat
        copied = {wires[c.name]: _wire_value(c, target.values[c.name]) for c in columns
                  if c.foreign_key is None}
        out.append({"fields": sorted(wires[a] for a in group), "copy": copied})
    return out


def _wire_value(c: ColumnIR, value: Any) -> Any:
    if isinstance(value, (decimal.Decimal, datetime.date)):
        return _text(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


# --- writes that succeed ------------------------------------------------------------------------


def _change_cases(ir: AppIR, e: EntityIR, base: Planner, suite: EntitySuite, scenarios: list[Scenario]) -> None:
    """Tests that start from an empty database: create, change and delete as the rules allow."""
    planner = _fresh(base)
    actor = planner.personas[0].handle if planner.personas else None
    try:
        if e.name == planner.user_entity and not _creatable(planner, e):
            target = planner.world.get(planner.personas[0].handle)
        else:
            target = planner.plan(e.name, actor)
    except NoScenario:
        return
    name = f"{e.module.upper()}_ONE"
    scenarios.append(Scenario(name, planner.steps, planner.world))
    world = planner.world
    cases: dict[str, Any] = {"scenario": name, "target": target.handle, "create": None, "update": None, "delete": None}
    made_by_api = next((s for s in planner.steps if s.handle == target.handle and s.via == "api"), None)
    if made_by_api is not None:
        # Create: replay the scenario up to the target's parents, then POST it.
        cases["create"] = {
            "actor": made_by_api.actor,
            "body": made_by_api.body,
            "refs": made_by_api.refs,
            "sent": sorted(c.wire for c in e.columns if c.wire in made_by_api.body and c.spec_type != "password"
                           and not has_field_rule(e, c.name, "read")),
            "stored": _stored_wires(e),
            "readable": _try(expected_read, world, e, target, _rec(world, made_by_api.actor)) == Outcome(200)
            if "read" in e.operations else False,
            "listed": "list" in e.operations and _try(
                visible, world, e, "list", target, _rec(world, made_by_api.actor)) is True,
        }
    change = _update_change(planner, e, target)
    if "update" in e.operations and change is not None:
        allowed = [h for h, u in _persona_recs(planner)
                   if _try(expected_change, world, e, "update", target, u, (change[0].name,)) == Outcome(200)]
        if allowed:
            cases["update"] = {"by": allowed, "wire": change[0].wire, "value": change[1].wire,
                               "readable": [h for h in allowed
                                            if _try(expected_read, world, e, target, _rec(world, h)) == Outcome(200)]}
    if "delete" in e.operations:
        allowed = [h for h, u in _persona_recs(planner)
                   if _try(expected_change, world, e, "delete", target, u) == Outcome(204)]
        if allowed:
            cases["delete"] = {"by": allowed, "soft": e.soft_delete}
    cases["dependents"] = _dependent_cases(ir, e, base, scenarios)
    # The page size is the app's, so one entity per kind of pagination shows it (a seed is 51+ rows).
    seeded = {x.cases["changes"]["pagination"] for x in suite.others if x.cases["changes"] and x.cases["changes"]["seed"]}
    cases["pagination"] = e.pagination
    cases["seed"] = None if e.pagination in seeded else _seed_case(ir, e, base, suite, scenarios)
    suite.cases["changes"] = cases


def _rec(world: World, handle: str | None) -> Rec | None:
    return None if handle is None else world.get(handle)


def _dependent_cases(ir: AppIR, e: EntityIR, base: Planner, scenarios: list[Scenario]) -> list[dict[str, Any]]:
    """Deleting a record others refer to: refused (restrict) or taking them along (cascade)."""
    if "delete" not in e.operations:
        return []
    out = []
    for child in ir.entities:
        for c in child.columns:
            fk = c.foreign_key
            if fk is None or fk.target_entity != e.name or c.nullable or not c.on_create or child.name == e.name:
                continue
            if fk.on_delete not in ("RESTRICT", "CASCADE"):
                continue
            planner = _fresh(base)
            actor = planner.personas[0].handle if planner.personas else None
            try:
                kid = planner.plan(child.name, actor)
            except NoScenario:
                continue
            world = planner.world
            parent = world.get(kid.values[c.name])
            deleter = next((h for h, u in _persona_recs(planner)
                            if _try(expected_change, world, e, "delete", parent, u) == Outcome(204)), "(none)")
            if deleter == "(none)":
                continue
            reader = next((h for h, u in _persona_recs(planner)
                           if _try(expected_read, world, child, kid, u) == Outcome(200)), "(none)")
            if fk.on_delete == "CASCADE" and ("read" not in child.operations or reader == "(none)"):
                continue
            name = f"{e.module.upper()}_WITH_{child.module.upper()}_{c.name.upper()}"
            scenarios.append(Scenario(name, planner.steps, world))
            out.append({"scenario": name, "parent": parent.handle, "child": kid.handle, "child_path": child.collection_path,
                        "child_name": child.name, "field": c.wire, "deleter": deleter,
                        "reader": None if reader == "(none)" else reader,
                        "restrict": fk.on_delete == "RESTRICT"})
    return out


def _seed_case(ir: AppIR, e: EntityIR, base: Planner, suite: EntitySuite, scenarios: list[Scenario]) -> dict | None:
    """More records than a default page, written straight to the database: the default and maximum limits."""
    if "list" not in e.operations or access(e, "list") == "denied":
        return None
    count = ir.page_size_default + 1
    if count > 1000:
        return None
    planner = _fresh(base)
    actor = planner.personas[0].handle if planner.personas else None
    try:
        first = planner.plan(e.name, actor, via="db")
        fixed = {c.name: first.values[c.name] for c in e.columns if c.foreign_key is not None
                 and first.values.get(c.name) is not None and c.server_value != "current_user"}
        for _ in range(count - 1):
            planner.plan(e.name, first.actor or actor, fixed, via="db")
    except NoScenario:
        return None
    world = planner.world
    rows = world.rows(e.name)
    for handle, user in _persona_recs(planner):
        verdicts = [_try(visible, world, e, "list", r, user) for r in rows]
        if all(v is True for v in verdicts):
            name = f"{e.module.upper()}_PAGES"
            scenarios.append(Scenario(name, planner.steps, world))
            return {"scenario": name, "lister": handle, "total": len(rows), "default": ir.page_size_default,
                    "max": ir.page_size_max}
    return None


# --- sign-in ------------------------------------------------------------------------------------


def _auth_cases(ir: AppIR, base: Planner, personas: list[Persona]) -> dict[str, Any] | None:
    auth = ir.auth
    if auth is None:
        return None
    user = next(e for e in ir.entities if e.name == auth.user_entity)
    identity = next(c for c in user.columns if c.name == auth.identity)
    password = next(c for c in user.columns if c.name == auth.password)
    out: dict[str, Any] = {
        "login": f"{ir.prefix}/auth/login",
        "signup": f"{ir.prefix}/auth/signup",
        "signup_enabled": auth.signup,
        "me": f"{ir.prefix}/me",
        "identity": identity.wire,
        "password": password.wire,
        "scheme": auth.scheme,
        "token_type": auth.scheme.lower(),
        "keys": {k: _key(ir, k) for k in ("access_token", "token_type", "expires_in", "user")},
        "envelope_one": user.envelope_one if user.envelope else None,
        "default_role": auth.default_role,
        "role": next(c.wire for c in user.columns if c.server_value == "role"),
        "active": next((c.name for c in user.columns if c.name == auth.active), None),
        "model": user.name,
        "persona": personas[0].handle if personas else None,
        "identities": {p.handle: _wire_value(identity, base.world.get(p.handle).values.get(identity.name))
                       for p in personas},
    }
    planner = _fresh(base)
    try:
        body, _ = planner.body_for(user, 90)
    except NoScenario:
        body = None
    out["signup_body"] = py_source(body) if body is not None else None
    out["short_password"] = ("x" * (password.json_schema["minLength"] - 1)
                             if password.json_schema.get("minLength", 0) > 1 else None)
    # A protected endpoint: one whose answer depends on who asks, so a bad token is refused there too.
    protected = next((e.collection_path for e in ir.entities
                      if "list" in e.operations and access(e, "list") == "authenticated"), None)
    out["protected"] = protected
    return out


# --- files ----------------------------------------------------------------------------------------


# Test kinds of tests/test_entities.py (one shared, unchanging world per entity) and of
# tests/test_changes.py (an empty database per test). Each generated test function takes the
# cases of one kind, for every entity, from tests/cases.json; a kind no entity has is not generated.
ENTITY_KINDS = (
    "list_seen", "list_order", "list_sort", "list_pages", "list_cursor", "list_offset", "list_filter",
    "list_include", "list_bad", "list_denied", "read_get", "read_missing", "read_params", "read_include",
    "read_who", "refused", "create_unknown", "create_server", "create_missing", "create_invalid", "create_raw",
    "create_unique", "create_absent_ref", "update_unknown", "update_server", "update_write_once", "update_invalid",
    "update_malformed", "update_stale", "update_missing", "update_absent_ref", "delete_refused",
)
CHANGE_KINDS = ("create_ok", "update_ok", "delete_ok", "delete_restricted", "delete_cascades", "pages")


def _meta(e: EntitySuite) -> dict[str, Any]:
    """What every test of an entity needs: where it lives and who the shared world's actors are."""
    c = e.cases
    return {
        "path": e.path, "envelope": e.envelope_one, "list_key": e.list_key, "next_key": e.next_key,
        "count_key": e.count_key, "lookup": e.lookup_wire, "world": e.world, "target": e.target,
        "lister": e.lister, "max_limit": e.page_max,
        "reader": c["read"]["reader"] if c["read"] else None,
        "poster": c["create_bodies"]["poster"] if c["create_bodies"] else None,
        "updater": c["update_bodies"]["updater"] if c["update_bodies"] else None,
        "new": c["new"], "change": {c["change"]["wire"]: c["change"]["value"]} if c["change"] else None,
    }


def _who(persona: str | None) -> str:
    return persona or "anonymous"


def _kinds(e: EntitySuite) -> dict[str, list[dict[str, Any]]]:  # noqa: C901 - one block per kind
    """The entity's cases by test kind; each case has an ``id`` (the test id after the entity's name)."""
    c = e.cases
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in ENTITY_KINDS + CHANGE_KINDS}
    add = lambda kind, id, **case: out[kind].append({"id": id, **case})  # noqa: E731
    lst = c["list"]
    if lst:
        for seen in lst["seen"]:
            add("list_seen", _who(seen["persona"]), persona=seen["persona"], expected=seen["expect"], all=lst["all"])
        add("list_order", "default", keys=lst["default_keys"], all=lst["all"])
        for sort in lst["sorts"]:
            add("list_sort", sort["param"], sort=sort["param"], keys=sort["keys"], all=lst["all"])
        if lst["pagination"] == "cursor" and len(lst["all"]) >= 3:
            for sort in [None] + lst["page_sorts"]:
                add("list_pages", sort or "default", sort=sort, all=lst["all"])
            add("list_cursor", "cursor", other_sort=lst["other_sort"])
        elif lst["pagination"] == "offset" and len(lst["all"]) >= 3:
            add("list_offset", "offset", all=lst["all"])
        for i, f in enumerate(lst["filters"], 1):
            add("list_filter", f"{f['param']}-{i}", param=f["param"], value=f["value"], expected=f["expect"])
        for inc in lst["includes"]:
            add("list_include", inc["name"], name=inc["name"], to_many=inc["to_many"], fk=inc["fk"],
                expected=inc["expect"])
        bad = [({"limit": "0"}, "limit", "invalid_limit", "limit-0"),
               ({"limit": str(lst["max"] + 1)}, "limit", "invalid_limit", "limit-above-max"),
               ({"limit": "ten"}, "limit", "invalid_limit", "limit-not-a-number"),
               ({"sort": "no_such_field"}, "sort", "invalid_sort", "unknown-sort"),
               ({"sort": "-no_such_field"}, "sort", "invalid_sort", "unknown-sort-descending"),
               ({"include": "no_such_relation"}, "include", "invalid_include", "unknown-include"),
               ({"no_such_filter": "1"}, "no_such_filter", "unknown_parameter", "unknown-filter")]
        if lst["pagination"] == "offset":
            bad.append(({"offset": "-1"}, "offset", "invalid_offset", "negative-offset"))
        bad += [({b["param"]: b["value"]}, b["param"], "invalid_parameter", f"bad-{b['param']}")
                for b in lst["bad_filters"]]
        for params, field_, code, id_ in bad:
            add("list_bad", id_, params=params, field=field_, code=code)
    if "list" in c["denied"]:
        add("list_denied", "nobody")
    read = c["read"]
    if read:
        add("read_get", "target", stored=read["stored"] if read["compare_created"] else None)
        add("read_missing", "absent", absent=c["absent_key"], malformed=c["malformed_key"])
        add("read_params", "unknown")
        for inc in read["includes"]:
            add("read_include", inc["name"], name=inc["name"], to_many=inc["to_many"], fk=inc["fk"],
                related=inc["expect"][e.target])
    for r in c["refusals"] or []:
        if r["op"] == "read":
            add("read_who", _who(r["persona"]), persona=r["persona"], status=r["status"])
        else:
            add("refused", f"{_who(r['persona'])}-{r['op']}", persona=r["persona"], op=r["op"], status=r["status"],
                code=r["code"], rule=r["rule"], body=r["body"])
    b = c["create_bodies"]
    if b:
        add("create_unknown", "no_such_field")
        for f in b["server"]:
            add("create_server", f, field=f)
        for f in b["missing"]:
            add("create_missing", f, field=f)
        for f in b["invalid"]:
            add("create_invalid", f"{f['wire']}-{f['why']}", field=f["wire"], value=f["value"])
        add("create_raw", "bodies")
        for u in b["unique"]:
            add("create_unique", "-".join(u["fields"]), fields=u["fields"], copy=u["copy"])
        for r in b["refs"]:
            add("create_absent_ref", r["wire"], field=r["wire"], absent=r["absent"])
    u = c["update_bodies"]
    if u:
        add("update_unknown", "no_such_field")
        for f in u["server"]:
            add("update_server", f, field=f)
        for f in u["write_once"]:
            add("update_write_once", f, field=f)
        for f in u["invalid"]:
            add("update_invalid", f"{f['wire']}-{f['why']}", field=f["wire"], value=f["value"])
        add("update_malformed", "json")
        if u["determined"]:
            add("update_stale", "etag")
            add("update_missing", "absent", absent=c["absent_key"])
            for r in u["refs"]:
                add("update_absent_ref", r["wire"], field=r["wire"], absent=r["absent"])
    if c["delete_stale"]:
        add("delete_refused", "stale-or-absent", deleter=c["delete_stale"]["deleter"], absent=c["absent_key"])
    g = c["changes"]
    if g:
        k = g["create"]
        if k:
            add("create_ok", "create", scenario=g["scenario"], actor=k["actor"], body=k["body"], refs=k["refs"],
                sent=k["sent"], stored=k["stored"], readable=k["readable"], listed=k["listed"])
        if g["update"]:
            for who in g["update"]["by"]:
                add("update_ok", _who(who), scenario=g["scenario"], target=g["target"], persona=who,
                    field=g["update"]["wire"], value=g["update"]["value"], readable=who in g["update"]["readable"])
        if g["delete"]:
            readable = "read" in e.operations and "read" not in c["denied"]
            listable = "list" in e.operations and "list" not in c["denied"]
            for who in g["delete"]["by"]:
                add("delete_ok", _who(who), scenario=g["scenario"], target=g["target"], persona=who,
                    soft=g["delete"]["soft"], read=readable, list=listable)
        for dep in g["dependents"]:
            kind = "delete_restricted" if dep["restrict"] else "delete_cascades"
            add(kind, f"{dep['child_name']}-{dep['field']}", scenario=dep["scenario"], parent=dep["parent"],
                child=dep["child"], child_path=dep["child_path"], deleter=dep["deleter"], reader=dep["reader"])
        if g["seed"]:
            add("pages", "default-and-max", **{k: v for k, v in g["seed"].items()})
    return out


def suite_files(ir: AppIR, header: str) -> list[Any]:
    """The test suite's files, for ``plan_files``: a few modules of generic tests, and their cases as JSON."""
    from generator.targets import JsonFile, TemplateFile  # lazily: generator.targets imports this module

    suite = build_suite(ir)
    auth = suite["auth"]
    entities = {e.name: {"meta": _meta(e), "cases": _kinds(e)} for e in suite["entities"]}
    present = {kind for entry in entities.values() for kind, cases in entry["cases"].items() if cases}
    base = {
        "header": header,
        "package": ir.package,
        "title": ir.title,
        "validation_status": ir.validation_status,
        "field_map": ir.error_format == "field_map",
        "has_auth": ir.auth is not None,
        "auth": auth,
        "password": TEST_PASSWORD,
        "py": py_source,  # prints a Python literal
        "kinds": present,
        # What test_changes.py takes from tests/support.py: the helpers its present kinds use.
        "changes_imports": ["Api", "Entity", "ids"]
        + (["invalid"] if "pages" in present else [])
        + (["problem"] if present & {"update_ok", "delete_ok", "delete_restricted", "delete_cascades"} else [])
        + ["steps"],
        "password_columns": {e.name: [c.name for c in e.columns if c.spec_type == "password"]
                             for e in ir.entities if any(c.spec_type == "password" for c in e.columns)},
    }
    note = header.replace("# ", "").replace("\n", " ")
    files = [
        TemplateFile("tests/__init__.py", "app/tests/__init__.py.j2", base),
        TemplateFile("tests/conftest.py", "app/tests/conftest.py.j2", base),
        TemplateFile("tests/support.py", "app/tests/support.py.j2", base),
        JsonFile("tests/scenarios.json", {"_comment": note, "personas": [p["step"] for p in suite["personas"]],
                                          "scenarios": suite["scenarios"]}),
        JsonFile("tests/cases.json", {"_comment": note, "entities": {
            name: {"meta": entry["meta"], "cases": {k: v for k, v in entry["cases"].items() if v}}
            for name, entry in entities.items()}}),
    ]
    if present & set(ENTITY_KINDS):
        files.append(TemplateFile("tests/test_entities.py", "app/tests/test_entities.py.j2", base))
    if present & set(CHANGE_KINDS):
        files.append(TemplateFile("tests/test_changes.py", "app/tests/test_changes.py.j2", base))
    if auth is not None:
        files.append(TemplateFile("tests/test_auth.py", "app/tests/test_auth.py.j2", base))
    return files
