"""The spec as typed, immutable values: what the semantic checks (and later the IR) read.

Every node keeps the JSON pointer of the YAML it came from, so any check can point
a diagnostic at the exact place through the SourceMap. Names that refer to other
things (an entity, a field, a state) are ``NameRef``s so the reference itself can
be pointed at, not just its owner. Expressions are kept as source text here; the
checks parse and type-check them (generator.expr).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCALAR_TYPES = (
    "string", "text", "integer", "decimal", "boolean", "date", "datetime",
    "uuid", "email", "url", "enum", "json", "password", "slug",
)
RELATION_TYPES = ("ref", "many", "has_many")
OPERATIONS = ("list", "read", "create", "update", "delete")


@dataclass(frozen=True, slots=True)
class NameRef:
    """A name written in the spec that refers to something else, and where it was written."""

    name: str
    pointer: str


@dataclass(frozen=True, slots=True)
class HookRef:
    """``module.name`` naming a function (or router, middleware) in a user module beside the spec."""

    module: str
    name: str
    pointer: str

    @property
    def text(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True, slots=True)
class Extensions:
    """The spec's ``extensions:``: user modules (name -> file relative to the spec directory)."""

    modules: tuple[tuple[str, str, str], ...]  # (module name, relative file, pointer of the file)
    routers: tuple[HookRef, ...]
    middleware: tuple[HookRef, ...]
    pointer: str


@dataclass(frozen=True, slots=True)
class Expression:
    text: str
    pointer: str


@dataclass(frozen=True, slots=True)
class Rule:
    effect: str  # "allow" | "deny"
    expr: Expression
    id: str | None
    description: str | None
    pointer: str


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    pointer: str


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    pointer: str
    required: bool = True
    has_default: bool = False
    default: Any = None
    auto: str | None = None
    unique: bool = False
    index: bool = False
    read_only: bool = False
    write_once: bool = False
    renamed_from: str | None = None
    column: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    min: int | float | None = None
    max: int | float | None = None
    precision: int | None = None
    scale: int | None = None
    values: tuple[str, ...] = ()
    slug_from: NameRef | None = None
    to: NameRef | None = None
    on_delete: str | None = None
    via: NameRef | None = None
    through: str | None = None
    access_read: RuleSet | None = None
    access_write: RuleSet | None = None
    description: str | None = None
    has_example: bool = False
    example: Any = None
    options: frozenset[str] = frozenset()  # option keys written in the spec, for applicability checks
    synthesized: bool = False  # added by Keel (id, timestamps, role, workflow state)

    @property
    def is_relation(self) -> bool:
        return self.type in RELATION_TYPES

    @property
    def column_name(self) -> str:
        return self.column or self.name


@dataclass(frozen=True, slots=True)
class Computed:
    name: str
    type: str
    expr: Expression
    pointer: str
    precision: int | None = None
    scale: int | None = None
    rounding: str = "half_even"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Effect:
    kind: str  # "set" | "add" | "remove"
    target: NameRef
    value: Expression


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    pointer: str
    method: str
    path: str | None
    input: tuple[Field, ...]
    permission: RuleSet | None
    guard: Expression | None
    effects: tuple[Effect, ...]
    description: str | None = None
    hook: HookRef | None = None


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    pointer: str
    where: Expression
    path: str | None
    sort: tuple[NameRef, ...]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalStep:
    role: NameRef
    when: Expression | None
    pointer: str


@dataclass(frozen=True, slots=True)
class Approvals:
    steps: tuple[ApprovalStep, ...]
    exclude: Expression | None
    distinct: bool
    pointer: str


@dataclass(frozen=True, slots=True)
class Transition:
    name: str
    pointer: str
    sources: tuple[NameRef, ...]  # a single NameRef("*") means from any state
    target: NameRef
    roles: tuple[NameRef, ...]
    permission: RuleSet | None
    guard: Expression | None
    input: tuple[Field, ...]
    effects: tuple[Effect, ...]
    approvals: Approvals | None
    path: str | None
    description: str | None = None
    hook: HookRef | None = None


@dataclass(frozen=True, slots=True)
class Frozen:
    states: tuple[NameRef, ...]
    fields: tuple[NameRef, ...]
    return_to: NameRef | None
    pointer: str


@dataclass(frozen=True, slots=True)
class Workflow:
    pointer: str
    field: str
    states: tuple[NameRef, ...]
    initial: NameRef
    final: tuple[NameRef, ...]
    transitions: tuple[Transition, ...]
    frozen: tuple[Frozen, ...]

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)


@dataclass(frozen=True, slots=True)
class Invariant:
    name: str
    check: Expression
    message: str
    pointer: str


@dataclass(frozen=True, slots=True)
class Notification:
    name: str
    pointer: str
    event: str
    field: NameRef | None
    transitions: tuple[NameRef, ...]
    to: Expression
    message: str | None


@dataclass(frozen=True, slots=True)
class EntityApi:
    path: str | None = None
    lookup: NameRef | None = None
    envelope: bool | None = None
    envelope_one: str | None = None
    envelope_many: str | None = None
    envelope_count: str | None = None
    pagination: str | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    pointer: str
    fields: tuple[Field, ...]
    computed: tuple[Computed, ...] = ()
    description: str | None = None
    plural: str | None = None
    table: str | None = None
    renamed_from: str | None = None
    id_strategy: str = "uuid"
    timestamps: bool = True
    soft_delete: bool = False
    audit: bool = False
    unique: tuple[tuple[NameRef, ...], ...] = ()
    indexes: tuple[tuple[NameRef, ...], ...] = ()
    ordering: tuple[NameRef, ...] = ()  # names may start with "-" for descending
    operations: tuple[str, ...] = OPERATIONS
    filters: tuple[NameRef, ...] = ()
    sort: tuple[NameRef, ...] = ()
    include: tuple[NameRef, ...] = ()
    api: EntityApi = field(default_factory=EntityApi)
    permissions: dict[str, RuleSet] = field(default_factory=dict)  # op -> rules ("all" expanded)
    permissions_pointer: str | None = None
    actions: tuple[Action, ...] = ()
    queries: tuple[Query, ...] = ()
    workflow: Workflow | None = None
    invariants: tuple[Invariant, ...] = ()
    notifications: tuple[Notification, ...] = ()
    hooks: tuple[tuple[str, HookRef], ...] = ()  # (point, e.g. before_create; the function)

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def computed_field(self, name: str) -> Computed | None:
        for c in self.computed:
            if c.name == name:
                return c
        return None


@dataclass(frozen=True, slots=True)
class Auth:
    pointer: str
    user: NameRef
    identity: NameRef
    password: NameRef
    roles: tuple[NameRef, ...]
    default_role: NameRef | None
    signup: bool
    active_field: NameRef | None


@dataclass(frozen=True, slots=True)
class Api:
    prefix: str = ""
    wire_names: str = "snake_case"
    envelope: bool = False
    pagination: str = "cursor"
    auth_scheme: str = "Bearer"
    error_format: str = "problem"
    validation_status: int = 422
    page_size_default: int = 50
    page_size_max: int = 200


@dataclass(frozen=True, slots=True)
class App:
    name: str
    title: str
    version: str
    description: str


@dataclass(frozen=True, slots=True)
class AllowedChange:
    """One entry of ``evolution.allow``: a breaking change the spec's authors accepted, and why."""

    rule: str  # a rule id of generator.diff.catalogue
    target: str | None  # Entity, Entity.member...; None: every change of that rule
    reason: str
    pointer: str


@dataclass(frozen=True, slots=True)
class Spec:
    app: App
    api: Api
    auth: Auth | None
    entities: tuple[Entity, ...]
    extensions: Extensions | None = None
    scenarios: tuple[Any, ...] = ()  # generator.model.scenarios.Scenario: the spec's own tests
    evolution: tuple["AllowedChange", ...] = ()  # evolution.allow: changes `keel diff` accepts (docs/diff.md)

    def entity(self, name: str) -> Entity | None:
        for e in self.entities:
            if e.name == name:
                return e
        return None
