"""What the generated tests set up, and what the app must answer: a simulation of the app's data and rules.

The generated test suite needs, for every entity, records to work on (and the records
they refer to, created first), made by users the rules let make them, and the answer
each user must get for each operation. All of that is decided here, at generation time,
by simulating the app:

* ``World``: the records a test creates, by handle ("member_1", "project_1", ...), with the
  values they will hold (what the test sends, plus what the server sets: the creator,
  the workflow's initial state, a default role, a slug). Values the simulation cannot
  know (ids, timestamps) are simply absent.
* ``evaluate``: a permission rule evaluated over a world, with the semantics of the
  compiled rules (null is a value for ``==``; other comparisons with null are false; a
  path through a missing record is null; to-many paths are lists). Anything it cannot
  know (an absent value, a computed field, ``today()``) makes the result
  ``Undetermined``; ``and``/``or`` still decide when the other side settles it.
* ``Planner``: the steps that create a record and its parents, choosing for each
  record a user the create rule allows (through the API), or writing it straight to
  the database when no user may create it through the API.
* ``expected_*``: the status an operation answers, following the order the generated
  handlers check things in (body, then visibility, then the rule, then If-Match).

Cases whose answer is ``Undetermined`` are left out of the generated tests, never guessed.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from generator.expr import Binary, Call, ListLiteral, Literal, Path, Unary, parse
from generator.ir.nodes import AppIR, ColumnIR, EntityIR, OperationRulesIR, RelationIR
from generator.targets.anonymous import refuses_anonymous  # the app's own analysis: 401 up front
from generator.targets.samples import NoSample, Sample, sample, slugify

__all__ = ["Outcome", "Persona", "Planner", "Rec", "Step", "Undetermined", "World", "evaluate", "personas_of"]


class Undetermined(Exception):
    """The simulation cannot know the answer (an unknown value, a computed field, the clock)."""


class NoScenario(Exception):
    """No records of this entity can be set up (no valid sample, a unique clash, no way to create it)."""


@dataclass
class Rec:
    """One record of the simulated world."""

    handle: str
    entity: str
    values: dict[str, Any]  # column attribute -> value; a foreign key holds the target's handle (or None)
    actor: str | None = None  # the persona who created it (None: anonymous or written to the database)


@dataclass(frozen=True)
class Persona:
    handle: str  # e.g. "member_1"
    role: str | None


@dataclass
class Step:
    """How a test creates one record: through the API as a user, or straight into the database."""

    handle: str
    entity: str
    via: str  # "api" | "db"
    actor: str | None  # api: the persona who sends the request (None: anonymous); db: who it is made for
    body: dict[str, Any]  # api: the JSON body, without references
    refs: dict[str, str]  # api: wire name -> handle; db: attribute -> handle
    values: dict[str, Any]  # db: attribute -> Python value, without references


@dataclass
class World:
    ir: AppIR
    records: list[Rec] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entities = {e.name: e for e in self.ir.entities}
        self._index: tuple[int, int, dict[str, Rec]] = (0, -1, {})

    def get(self, handle: str) -> Rec:
        list_id, size, index = self._index
        if list_id != id(self.records) or size != len(self.records):  # records were added or replaced
            index = {r.handle: r for r in self.records}
            self._index = (id(self.records), len(self.records), index)
        return index[handle]

    def rows(self, entity: str) -> list[Rec]:
        return [r for r in self.records if r.entity == entity]

    def next_index(self, entity: str) -> int:
        """Sample indexes are never reused within one world, so unique values never clash."""
        n = self.counters.get(entity, 0)
        self.counters[entity] = n + 1
        return n

    def new_handle(self, entity: EntityIR) -> str:
        n = sum(1 for r in self.records if r.entity == entity.name) + 1
        handle = f"{entity.module}_{n}"
        while any(r.handle == handle for r in self.records):
            n += 1
            handle = f"{entity.module}_{n}"
        return handle

    def copy(self) -> World:
        clone = World(self.ir)
        clone.records = [Rec(r.handle, r.entity, dict(r.values), r.actor) for r in self.records]
        clone.counters = dict(self.counters)
        return clone


# --- rules ------------------------------------------------------------------------------------------


def _column(e: EntityIR, name: str) -> ColumnIR | None:
    return next((c for c in e.columns if c.name == name), None)


def _relation(e: EntityIR, name: str) -> RelationIR | None:
    return next((r for r in e.relations if r.name == name), None)


def _step(world: World, value: Any, name: str) -> Any:
    """``value.name`` for a record (or a list of records) of the world."""
    if value is None:
        return None
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            got = _step(world, item, name)
            if isinstance(got, list):
                out.extend(got)
            elif got is not None:
                out.append(got)
        return out
    assert isinstance(value, Rec)
    e = world.entities[value.entity]
    relation = _relation(e, name)
    if relation is not None:
        if relation.kind == "many_to_one":
            if relation.fk_attribute not in value.values:
                raise Undetermined(f"{e.name}.{relation.fk_attribute}")
            target = value.values[relation.fk_attribute]
            return None if target is None else world.get(target)
        if relation.kind == "one_to_many":
            child = world.entities[relation.target]
            via = _relation(child, relation.back_populates or "")
            if via is None or via.fk_attribute is None:
                raise Undetermined(f"{e.name}.{name}")
            return [r for r in world.rows(child.name) if r.values.get(via.fk_attribute) == value.handle]
        return []  # many-to-many: the CRUD endpoints never add links, so they are empty in every test
    column = _column(e, name)
    if column is None:
        raise Undetermined(f"{e.name}.{name}")  # a computed field: not modelled
    if name not in value.values:
        raise Undetermined(f"{e.name}.{name}")
    return value.values[name]


def _eval(world: World, node: Any, record: Rec | None, user: Rec | None) -> Any:  # noqa: C901
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, ListLiteral):
        return [_eval(world, item, record, user) for item in node.items]
    if isinstance(node, Path):
        if node.root == "input":
            raise Undetermined("input")
        value: Any = record if node.root == "record" else user
        for name in node.fields:
            value = _step(world, value, name)
        return value
    if isinstance(node, Unary):
        inner = _eval(world, node.operand, record, user)
        if node.op == "not":
            return inner is not True
        return None if inner is None else -inner
    if isinstance(node, Call):
        args = [_eval(world, a, record, user) for a in node.args]
        if node.name == "today":
            return _CLOCK[0].date()
        if node.name == "now":
            return _CLOCK[0]
        if node.name == "days":
            return None if args[0] is None else datetime.timedelta(days=int(args[0]))
        if node.name in ("count", "sum", "min", "max"):
            items = args[0] or []
            if node.name == "count":
                return len(items)
            if node.name == "sum":
                return sum(items, decimal.Decimal(0))
            return (min if node.name == "min" else max)(items) if items else None
        if node.name == "len":
            return None if args[0] is None else len(args[0])
        if node.name == "lower":
            return None if args[0] is None else args[0].lower()
        if node.name == "coalesce":
            return args[0] if args[0] is not None else args[1]
        raise Undetermined(node.name)
    assert isinstance(node, Binary)
    if node.op in ("and", "or"):
        results = []
        for side in (node.left, node.right):
            try:
                results.append(_eval(world, side, record, user) is True)
            except Undetermined:
                results.append(None)
        if node.op == "and":
            if False in results:
                return False
            if None in results:
                raise Undetermined("and")
            return True
        if True in results:
            return True
        if None in results:
            raise Undetermined("or")
        return False
    a, b = _eval(world, node.left, record, user), _eval(world, node.right, record, user)
    if node.op == "==":
        return _same(a, b)
    if node.op == "!=":
        return not _same(a, b)
    if node.op in ("<", "<=", ">", ">="):
        if a is None or b is None:
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[node.op]
    if node.op in ("in", "not in"):
        found = any(_same(a, item) for item in b or [])
        return found if node.op == "in" else not found
    if a is None or b is None:
        return None
    if node.op == "+":
        return a + b
    if node.op == "-":
        if _is_date(a) and _is_date(b):
            return (a - b).days  # date - date is a number of days
        return a - b
    if node.op == "*":
        return a * b
    if node.op == "/":
        return decimal.Decimal(a) / decimal.Decimal(b)
    raise Undetermined(node.op)


def _is_date(value: Any) -> bool:
    return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)


# The day a rule is evaluated on. The tests run on some day after they are generated, so a
# rule is evaluated on two days far apart: a verdict that differs between them depends on
# the day the tests run, and is undetermined. (Sample dates are in 2024.)
_DAYS = (datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc),
         datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc))
_CLOCK = [_DAYS[0]]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Rec) or isinstance(b, Rec):
        return isinstance(a, Rec) and isinstance(b, Rec) and a.handle == b.handle
    return a == b


@lru_cache(maxsize=4096)
def _parsed(text: str) -> Any:
    tree, errors = parse(text)
    if tree is None or errors:  # pragma: no cover - validated specs only
        raise Undetermined(text)
    return tree


def evaluate(world: World, text: str, record: Rec | None, user: Rec | None) -> bool:
    """The rule's verdict (a null condition is false); ``Undetermined`` when the world cannot tell."""
    tree = _parsed(text)
    verdicts = set()
    try:
        for day in _DAYS:
            _CLOCK[0] = day
            verdicts.add(_eval(world, tree, record, user) is True)
    finally:
        _CLOCK[0] = _DAYS[0]
    if len(verdicts) > 1:
        raise Undetermined(f"{text}: depends on the day")
    return verdicts.pop()


def _field_rule(e: EntityIR, attr: str, op: str) -> Any:
    return next((r for r in getattr(e, "field_rules", ()) if r.attr == attr and r.op == op), None)


def has_field_rule(e: EntityIR, attr: str, op: str | None = None) -> bool:
    return any(r.attr == attr and (op is None or r.op == op) for r in getattr(e, "field_rules", ()))


def field_allowed(world: World, e: EntityIR, attr: str, op: str, record: Rec, user: Rec | None) -> bool:
    """Whether ``user`` may read or write (``op``) one field of ``record`` by its field access rule."""
    rule = _field_rule(e, attr, op)
    if rule is None:
        return True
    if rule.python is None:
        return False  # a rule the app cannot decide on a loaded row: nobody (see generator/ir/field_access.py)
    if " / " in rule.text:
        raise Undetermined(rule.id)  # several rules, shown joined: not modelled
    if user is None:
        return False  # the app never shows or lets anonymous clients set a guarded field
    return evaluate(world, rule.text, record, user)


def invariants_hold(world: World, e: EntityIR, record: Rec) -> bool:
    """Whether ``record`` meets every invariant of its entity (``Undetermined`` when the world cannot tell)."""
    return all(evaluate(world, inv.text, record, None) for inv in getattr(e, "invariants", ()))


@dataclass(frozen=True)
class Outcome:
    """What an operation answers: a status, and for refusals the problem code (and the rule that decided)."""

    status: int
    code: str | None = None
    rule: str | None = None


def _rules(e: EntityIR, op: str) -> OperationRulesIR | None:
    return next((r for r in e.rules if r.op == op), None)


def access(e: EntityIR, op: str) -> str:
    return dict(e.access).get(op, "denied")


def decide(world: World, e: EntityIR, op: str, record: Rec, user: Rec | None) -> tuple[bool, str | None]:
    """(allowed, the id of the rule that refuses) for an operation whose access is ``authenticated``."""
    rules = _rules(e, op)
    assert rules is not None
    verdicts = []
    for rule in rules.rules:
        try:
            verdicts.append((rule, evaluate(world, rule.text, record, user)))
        except Undetermined:
            verdicts.append((rule, None))
    allows = [v for r, v in verdicts if r.effect == "allow"]
    denies = [(r, v) for r, v in verdicts if r.effect == "deny"]
    # The app reports the first deny rule that holds, else "<Entity>.<op>" when no allow rule holds.
    for rule, verdict in denies:
        if verdict is None:
            if True in allows or None in allows:
                raise Undetermined(rule.id)
            break  # nothing allows: refused whatever the deny rules say (and no deny rule before it held)
        if verdict:
            return False, rule.id
    if True in allows:
        return True, None
    if None in allows:
        raise Undetermined(f"{e.name}.{op}")
    return False, f"{e.name}.{op}"


def visible(world: World, e: EntityIR, op: str, record: Rec, user: Rec | None) -> bool:
    """Whether ``user`` sees ``record`` through the list or read rule (``op``)."""
    kind = access(e, op)
    if kind == "public":
        return True
    if kind == "denied":
        return False
    return decide(world, e, op, record, user)[0]


def _loads_through_read(e: EntityIR) -> bool:
    """Updates and deletes load the row through the read rule (404 when hidden) when reads have one."""
    return "read" in e.operations and access(e, "read") == "authenticated"


def _refused(allowed: bool, rule: str | None, user: Rec | None) -> Outcome | None:
    if allowed:
        return None
    if user is None:
        return Outcome(401, "authentication_required")
    return Outcome(403, "forbidden", rule)


def expected_read(world: World, e: EntityIR, record: Rec, user: Rec | None) -> Outcome:
    kind = access(e, "read")
    if kind == "denied":
        return Outcome(403, "forbidden")
    return Outcome(200) if visible(world, e, "read", record, user) else Outcome(404, "not_found")


def _write_guard(world: World, e: EntityIR, sent: tuple[str, ...], record: Rec, user: Rec | None) -> Outcome | None:
    """A field the user sent but may not set: 403 naming the field's write rule."""
    for attr in sent:
        if not field_allowed(world, e, attr, "write", record, user):
            return Outcome(403, "forbidden", _field_rule(e, attr, "write").id)
    return None


def expected_change(world: World, e: EntityIR, op: str, record: Rec, user: Rec | None,
                    sent: tuple[str, ...] = ()) -> Outcome:
    """The answer to a valid PATCH (``update``, changing ``sent``) or DELETE (``delete``) without If-Match."""
    kind = access(e, op)
    if kind == "denied":
        return Outcome(403, "forbidden")
    if user is None and refuses_anonymous(world.ir, e, op):
        return Outcome(401, "authentication_required")  # before the body or the record is looked at
    if _loads_through_read(e) and not visible(world, e, "read", record, user):
        return Outcome(404, "not_found")
    if kind != "public":
        refused = _refused(*decide(world, e, op, record, user), user)
        if refused:
            return refused
    return _write_guard(world, e, sent, record, user) or Outcome(200 if op == "update" else 204)


def expected_create(world: World, e: EntityIR, record: Rec, user: Rec | None, sent: tuple[str, ...] = ()) -> Outcome:
    """The answer to a valid POST of the fields ``sent`` whose references exist; ``record`` is what is stored."""
    kind = access(e, "create")
    if kind == "denied":
        return Outcome(403, "forbidden")
    if user is None and refuses_anonymous(world.ir, e, "create"):
        return Outcome(401, "authentication_required")
    if user is None and any(c.server_value == "current_user" for c in e.columns):
        return Outcome(401, "authentication_required")
    guarded = _write_guard(world, e, sent, record, user)
    if guarded:
        return guarded
    if kind == "public":
        return Outcome(201)
    return _refused(*decide(world, e, "create", record, user), user) or Outcome(201)


# --- personas ---------------------------------------------------------------------------------------


def personas_of(ir: AppIR) -> list[Persona]:
    """The users every test starts with: one per role, and a second one of the default role.

    The default role comes first: records are made by the least privileged user the rules allow.
    """
    if ir.auth is None:
        return []
    roles = [ir.auth.default_role] + [r for r in ir.auth.roles if r != ir.auth.default_role]
    out = [Persona(f"{roles[0]}_1", roles[0]), Persona(f"{roles[0]}_2", roles[0])]
    out += [Persona(f"{role}_1", role) for role in roles[1:]]
    return out


# --- planning ---------------------------------------------------------------------------------------


class Planner:
    """Plans the steps that create records, in a world it keeps up to date."""

    def __init__(self, ir: AppIR, world: World | None = None, personas: list[Persona] | None = None) -> None:
        self.ir = ir
        self.world = world or World(ir)
        self.personas = personas if personas is not None else personas_of(ir)
        self.steps: list[Step] = []
        self.user_entity = ir.auth.user_entity if ir.auth else None

    def entity(self, name: str) -> EntityIR:
        return self.world.entities[name]

    # -- personas --
    def add_personas(self) -> list[Step]:
        """The personas as rows of the user entity (their password hash is set by the tests)."""
        if self.user_entity is None:
            return []
        e = self.entity(self.user_entity)
        steps = []
        for persona in self.personas:
            n = self.world.next_index(e.name)
            values: dict[str, Any] = {}
            for c in e.columns:
                if c.server_value == "role":
                    values[c.name] = persona.role
                elif self.ir.auth and c.name == self.ir.auth.active:
                    values[c.name] = True  # a persona must be able to act
                elif c.spec_type == "password" or c.server_value is not None:
                    continue
                elif c.foreign_key is not None:
                    if not c.nullable:
                        raise NoScenario(f"the user entity needs a {c.name} to exist")
                    values[c.name] = None
                elif c.on_create:
                    values[c.name] = self._sample(c, n).python
            self.world.records.append(Rec(persona.handle, e.name, self._with_server_values(e, values, None), None))
            steps.append(Step(persona.handle, e.name, "db", None, {}, {}, self._db_values(e, values)))
        return steps

    def persona_rec(self, handle: str | None) -> Rec | None:
        return None if handle is None else self.world.get(handle)

    def actors(self, preferred: str | None) -> list[str | None]:
        """Who to try as the creator of a record, in order: the preferred persona, then the others."""
        handles: list[str | None] = [p.handle for p in self.personas]
        if preferred in handles:
            handles.remove(preferred)
            handles.insert(0, preferred)
        return handles + [None]

    # -- samples --
    @staticmethod
    def _sample(c: ColumnIR, n: int) -> Sample:
        try:
            return sample(c, n)
        except NoSample as exc:
            raise NoScenario(str(exc)) from None

    def _with_server_values(self, e: EntityIR, values: dict[str, Any], actor: str | None) -> dict[str, Any]:
        """What the server stores besides the body: defaults, the initial state, the creator, the slug."""
        out = dict(values)
        for c in e.columns:
            if c.name in out:
                continue
            if c.server_value == "current_user":
                out[c.name] = actor
            elif c.server_value in ("state", "role") or (c.on_create and c.has_default):
                out[c.name] = c.default
            elif c.server_value == "deleted":
                out[c.name] = None
            elif c.on_create and c.nullable and c.foreign_key is None:
                out[c.name] = None
            elif c.spec_type == "slug" and c.slug_from and c.slug_from in out:
                out[c.name] = self._free_slug(e, c, slugify(str(out[c.slug_from])))
            elif not c.on_create and not c.on_update and c.server_value is None and c.spec_type != "slug":
                out[c.name] = c.default if c.has_default else None  # read-only: only the server sets it
        return out

    def _free_slug(self, e: EntityIR, c: ColumnIR, base: str) -> str:
        taken = {r.values.get(c.name) for r in self.world.rows(e.name)}
        if base not in taken:
            return base
        n = 2
        while f"{base}-{n}" in taken:
            n += 1
        return f"{base}-{n}"

    @staticmethod
    def _db_values(e: EntityIR, values: dict[str, Any]) -> dict[str, Any]:
        """The attributes a test sets when it writes the row itself (the model's defaults do the rest)."""
        managed = {"id", "created", "updated", "version", "current_user", "deleted"}
        return {k: v for k, v in values.items()
                if (c := _column(e, k)) is not None and c.foreign_key is None and c.server_value not in managed
                and c.spec_type != "password"}

    # -- records --
    def body_for(self, e: EntityIR, n: int, nulls: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
        """(JSON body, Python values) of the n-th sample record, without references.

        With ``nulls``, optional fields are left out (they are stored as null).
        """
        body: dict[str, Any] = {}
        values: dict[str, Any] = {}
        for c in e.columns:
            if not c.on_create or c.foreign_key is not None:
                continue
            if (nulls and c.nullable) or (has_field_rule(e, c.name, "write") and (c.nullable or c.has_default)):
                continue  # optional fields guarded by a write rule are left out: not everyone may set them
            s = self._sample(c, n)
            if self.ir.auth and e.name == self.user_entity and c.name == self.ir.auth.active:
                s = Sample(True, True)
            body[c.wire] = s.wire
            if c.spec_type != "password":  # stored as a hash the tests set themselves
                values[c.name] = s.python
        return body, values

    def plan(self, entity: str, actor: str | None = None, fixed: dict[str, str] | None = None,
             nulls: bool = False, via: str | None = None) -> Rec:
        """Plan one record of ``entity`` (and the parents it needs); returns it, already in the world.

        ``actor`` is who should create it if the rules let them; ``fixed`` gives references
        (attribute -> handle) to use instead of new parents; ``via="db"`` writes it to the database.
        """
        e = self.entity(entity)
        fixed = dict(fixed or {})
        refs: dict[str, str | None] = {}
        for c in e.columns:
            if c.foreign_key is None or not c.on_create:
                continue
            if c.name in fixed:
                refs[c.name] = fixed[c.name]
            elif c.nullable:
                refs[c.name] = None
            elif c.foreign_key.target_entity == self.user_entity:
                refs[c.name] = actor or (self.personas[0].handle if self.personas else None)
                if refs[c.name] is None:
                    raise NoScenario(f"{e.name}.{c.name} needs a user")
            else:
                if c.foreign_key.target_entity == e.name:
                    raise NoScenario(f"{e.name}.{c.name} is a required reference to its own entity")
                refs[c.name] = self.plan(c.foreign_key.target_entity, actor).handle
        n = self.world.next_index(e.name)
        body, values = self.body_for(e, n, nulls)
        handle = self.world.new_handle(e)
        choice = None if via == "db" else self._creator(e, values, refs, actor)
        if choice is not None:
            chosen, stored = choice
            wire_refs = {self._wire(e, attr): target for attr, target in refs.items() if target is not None}
            self.steps.append(Step(handle, e.name, "api", chosen, body, wire_refs, {}))
        else:
            chosen = actor if actor is not None else (self.personas[0].handle if self.personas else None)
            stored = self._with_server_values(e, {**values, **refs}, chosen)
            if any(c.server_value == "current_user" for c in e.columns) and chosen is None:
                raise NoScenario(f"{e.name} needs a creator")
            db_refs = {attr: target for attr, target in refs.items() if target is not None}
            db_refs.update({c.name: chosen for c in e.columns if c.server_value == "current_user"})
            self.steps.append(Step(handle, e.name, "db", chosen, {}, db_refs, self._db_values(e, stored)))
        record = Rec(handle, e.name, stored, chosen)
        try:
            if not invariants_hold(self.world, e, record):
                raise NoScenario(f"{e.name}: the sample breaks an invariant")
        except Undetermined:
            raise NoScenario(f"{e.name}: cannot tell whether the sample meets its invariants") from None
        self._check_unique(e, record)
        self.world.records.append(record)
        return record

    def _creator(self, e: EntityIR, values: dict[str, Any], refs: dict[str, str | None],
                 actor: str | None) -> tuple[str | None, dict[str, Any]] | None:
        """The first persona (``actor`` first) who may create this record through the API, and what it stores."""
        if "create" not in e.operations or access(e, "create") == "denied":
            return None
        sent = tuple(values)
        for candidate in self.actors(actor):
            stored = self._with_server_values(e, {**values, **refs}, candidate)
            probe = Rec("(new)", e.name, stored, candidate)
            try:
                outcome = expected_create(self.world, e, probe, self.persona_rec(candidate), sent)
                if not invariants_hold(self.world, e, probe):
                    continue
            except Undetermined:
                continue
            if outcome.status == 201:
                return candidate, stored
        return None

    @staticmethod
    def _wire(e: EntityIR, attr: str) -> str:
        return next(c.wire for c in e.columns if c.name == attr)

    def _check_unique(self, e: EntityIR, record: Rec) -> None:
        groups = [(c.name,) for c in e.columns if c.unique] + [u.columns for u in e.unique_constraints]
        for group in groups:
            key = tuple(record.values.get(attr) for attr in group)
            if None in key:
                continue
            for other in self.world.rows(e.name):
                if tuple(other.values.get(attr) for attr in group) == key:
                    raise NoScenario(f"{e.name}: samples clash on {', '.join(group)}")
