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
from generator.targets.samples import NoSample, filter_text_invalid, invalid_samples, py_source, sample
from generator.targets.scenarios import (
    NoScenario, Outcome, Persona, Planner, Rec, Step, Undetermined, World, access, expected_change, expected_create,
    expected_read, personas_of, visible,
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


def _step_source(ir: AppIR, step: Step) -> str:
    e = next(x for x in ir.entities if x.name == step.entity)
    args = [repr(step.handle), repr(step.entity), repr(step.via)]
    if step.actor is not None:
        args.append(f"actor={step.actor!r}")
    if step.via == "api":
        args.append(f"path={e.collection_path!r}")
        args.append(f"body={py_source(step.body)}")
        if e.envelope:
            args.append(f"envelope={e.envelope_one!r}")
        lookup = next(c.wire for c in e.columns if c.name == e.lookup)
    else:
        args.append(f"values={py_source(step.values)}")
        lookup = e.lookup
    if step.refs:
        args.append(f"refs={step.refs!r}")
    if lookup != "id":
        args.append(f"lookup={lookup!r}")
    return f"Step({', '.join(args)})"


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


def _query_value(c: ColumnIR, values: list[Any]) -> str:
    """Python source of a query-string value: a literal, or the ids of records made by the test."""
    if c.foreign_key is not None:
        absent = ABSENT_ID["int" if c.py_type == "int" else "uuid.UUID"]
        parts = [f"world.text({v!r})" if not isinstance(v, _Absent) else repr(absent) for v in values]
        return ' + "," + '.join(parts)
    return repr(",".join(_text(v) for v in values))


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
    entities = [_entity_suite(ir, e, base, scenarios) for e in ir.entities]
    return {
        "personas": [{"handle": p.handle, "role": p.role, "step": _step_source(ir, s)}
                     for p, s in zip(personas, persona_steps)],
        "scenarios": [{"name": s.name, "steps": [_step_source(ir, step) for step in s.steps]} for s in scenarios],
        "entities": entities,
        "auth": _auth_cases(ir, base, personas),
    }


def _fresh(base: Planner) -> Planner:
    return Planner(base.ir, base.world.copy(), base.personas)


def _entity_suite(ir: AppIR, e: EntityIR, base: Planner, scenarios: list[Scenario]) -> EntitySuite:
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
    for wire in sort_keys:
        c = columns.get(wire)
        if c is None:
            continue
        for descending in (False, True):
            keys = [(wire, _kind(c), descending)] + ([("id", id_kind, False)] if wire != "id" else [])
            sorts.append({"param": ("-" if descending else "") + wire, "keys": keys})
    cases["sorts"] = sorts
    default_keys = []
    for part in context["default_sort"].split(","):
        wire = part.lstrip("-")
        if wire in columns:
            default_keys.append((wire, _kind(columns[wire]), part.startswith("-")))
    if default_keys and default_keys[-1][0] != "id":
        default_keys.append(("id", id_kind, False))
    cases["default_keys"] = default_keys
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
    includes = _include_cases(e, planner, [target], reader) if reader is not None or not planner.personas else []
    suite.cases["read"] = {"reader": reader, "compare_created": api_made, "includes": includes}


# --- refusals: who may not do what --------------------------------------------------------------


def _update_change(planner: Planner, e: EntityIR, record: Rec) -> tuple[ColumnIR, Any] | None:
    """A field to change and its new (valid, different) value, for a PATCH that should succeed."""
    auth = planner.ir.auth
    skip = {auth.active, auth.identity} if auth and e.name == auth.user_entity else set()

    def rank(c: ColumnIR) -> int:
        return {"string": 0, "text": 1, "enum": 2, "integer": 3, "decimal": 3, "date": 4}.get(c.spec_type, 9)

    candidates = sorted((c for c in e.columns if c.on_update and c.foreign_key is None and not c.unique
                         and c.spec_type not in ("password", "json") and c.name not in skip), key=rank)
    for c in candidates:
        for n in range(7, 12):
            try:
                s = sample(c, n)
            except NoSample:
                break
            if s.python != record.values.get(c.name):
                return c, s
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
            outcome = _try(expected_change, world, e, "update", target, user)
            if outcome is not None and outcome.status >= 400:
                cases.append({"persona": handle, "op": "update", **_outcome(outcome),
                              "body": py_source({change[0].wire: change[1].wire})})
        if "delete" in e.operations:
            outcome = _try(expected_change, world, e, "delete", target, user)
            if outcome is not None and outcome.status >= 400:
                cases.append({"persona": handle, "op": "delete", **_outcome(outcome)})
        if "create" in e.operations and new is not None:
            body, refs, values = new
            stored = planner._with_server_values(e, {**values, **{a: h for a, h in refs.items()}}, handle)
            outcome = _try(expected_create, world, e, Rec("(new)", e.name, stored, handle), user)
            if outcome is not None and outcome.status >= 400:
                cases.append({"persona": handle, "op": "create", **_outcome(outcome)})
    suite.cases["refusals"] = cases
    if new is not None:
        body, refs, _ = new
        suite.cases["new"] = {"body": py_source(body),
                              "refs": {next(c.wire for c in e.columns if c.name == a): h for a, h in refs.items()}}
    if change is not None:
        suite.cases["change"] = {"wire": change[0].wire, "value": py_source(change[1].wire)}


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
                fields.append({"wire": c.wire, "why": why.replace(" ", "-"), "value": _value_source(value)})
        missing = [c.wire for c in e.columns if c.on_create and c.required_on_create and not c.has_default
                   and not c.nullable]
        cases: dict[str, Any] = {"poster": poster, "server": view_server, "invalid": fields, "missing": missing,
                                 "refs": _absent_refs(e, "on_create"), "unique": []}
        if poster is not None or not planner.personas:
            cases["unique"] = _unique_clash(e, target, planner)
        suite.cases["create_bodies"] = cases
    if "update" in e.operations and access(e, "update") != "denied" and suite.cases.get("change"):
        updater = next((h for h, u in _persona_recs(planner)
                        if _try(expected_change, world, e, "update", target, u) == Outcome(200)), "(none)")
        fields = []
        for c in e.columns:
            if not c.on_update:
                continue
            for why, value in invalid_samples(c):
                if why == "null" and c.nullable:
                    continue
                fields.append({"wire": c.wire, "why": why.replace(" ", "-"), "value": _value_source(value)})
        suite.cases["update_bodies"] = {
            "updater": None if updater == "(none)" else updater, "determined": updater != "(none)",
            "server": view_server, "write_once": write_once, "invalid": fields,
            "refs": _absent_refs(e, "on_update"),
        }
    if "delete" in e.operations and access(e, "delete") != "denied":
        deleter = next((h for h, u in _persona_recs(planner)
                        if _try(expected_change, world, e, "delete", target, u) == Outcome(204)), "(none)")
        if deleter != "(none)":
            suite.cases["delete_stale"] = {"deleter": deleter}


def _value_source(value: Any) -> str:
    """Python source of a JSON value; a long run of one character is written as a repetition."""
    if isinstance(value, str) and len(value) > 40 and len(set(value)) == 1:
        return f"{value[0]!r} * {len(value)}"
    return py_source(value)


def _absent_refs(e: EntityIR, flag: str) -> list[dict[str, str]]:
    """Reference fields a client may send, each with an id no record has."""
    return [{"wire": c.wire, "absent": "987654321" if c.py_type == "int" else repr(ABSENT_ID["uuid.UUID"])}
            for c in e.columns if c.foreign_key is not None and getattr(c, flag)]


def _allowed_creator(planner: Planner, e: EntityIR, refs: dict[str, str], values: dict[str, Any]) -> str | None:
    for handle, user in _persona_recs(planner):
        stored = planner._with_server_values(e, {**values, **refs}, handle)
        if _try(expected_create, planner.world, e, Rec("(new)", e.name, stored, handle), user) == Outcome(201):
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
            "body": py_source(made_by_api.body),
            "refs": made_by_api.refs,
            "sent": sorted(k for k in made_by_api.body
                           if not any(c.wire == k and c.spec_type == "password" for c in e.columns)),
            "readable": _try(expected_read, world, e, target, _rec(world, made_by_api.actor)) == Outcome(200)
            if "read" in e.operations else False,
            "listed": "list" in e.operations and _try(
                visible, world, e, "list", target, _rec(world, made_by_api.actor)) is True,
        }
    change = _update_change(planner, e, target)
    if "update" in e.operations and change is not None:
        allowed = [h for h, u in _persona_recs(planner)
                   if _try(expected_change, world, e, "update", target, u) == Outcome(200)]
        if allowed:
            cases["update"] = {"by": allowed, "wire": change[0].wire, "value": py_source(change[1].wire),
                               "readable": [h for h in allowed
                                            if _try(expected_read, world, e, target, _rec(world, h)) == Outcome(200)]}
    if "delete" in e.operations:
        allowed = [h for h, u in _persona_recs(planner)
                   if _try(expected_change, world, e, "delete", target, u) == Outcome(204)]
        if allowed:
            cases["delete"] = {"by": allowed, "soft": e.soft_delete}
    cases["dependents"] = _dependent_cases(ir, e, base, scenarios)
    cases["seed"] = _seed_case(ir, e, base, suite, scenarios)
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


def suite_files(ir: AppIR, header: str) -> list[Any]:
    """The test suite's files, for ``plan_files``."""
    from generator.targets import TemplateFile  # lazily: generator.targets imports this module

    suite = build_suite(ir)
    auth = suite["auth"]
    base = {
        "header": header,
        "package": ir.package,
        "title": ir.title,
        "validation_status": ir.validation_status,
        "field_map": ir.error_format == "field_map",
        "has_auth": ir.auth is not None,
        "auth": auth,
        "password": TEST_PASSWORD,
        "personas": suite["personas"],
        "py": py_source,  # prints a Python literal
        "password_columns": {e.name: [c.name for c in e.columns if c.spec_type == "password"]
                             for e in ir.entities if any(c.spec_type == "password" for c in e.columns)},
    }
    files = [
        TemplateFile("tests/__init__.py", "app/tests/__init__.py.j2", base),
        TemplateFile("tests/conftest.py", "app/tests/conftest.py.j2", base),
        TemplateFile("tests/support.py", "app/tests/support.py.j2", base),
        TemplateFile("tests/scenarios.py", "app/tests/scenarios.py.j2", {**base, "scenarios": suite["scenarios"]}),
    ]
    if auth is not None:
        files.append(TemplateFile("tests/test_auth.py", "app/tests/test_auth.py.j2", base))
    for e in suite["entities"]:
        files.append(TemplateFile(f"tests/test_{e.module}.py", "app/tests/test_entity.py.j2", {**base, "e": e}))
        files.append(TemplateFile(f"tests/test_{e.module}_changes.py", "app/tests/test_entity_changes.py.j2",
                                  {**base, "e": e}))
    return files
