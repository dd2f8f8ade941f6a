"""The intermediate representation: everything the templates may know, fully resolved.

Frozen dataclasses, built only by ``generator.ir.build``. Names, types,
foreign keys, constraint names, paths and wire names are all decided here, in
Python, so templates only loop and print. ``source`` fields are
``file:line`` locations relative to the spec directory, so the generated code
can say which line of the spec each rule came from without depending on where
Keel was run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ForeignKeyIR:
    target_entity: str
    target_table: str
    target_column: str
    on_delete: str  # SQL: CASCADE | RESTRICT | SET NULL


@dataclass(frozen=True, slots=True)
class ColumnIR:
    """One database column and its attribute, with how it appears on the wire."""

    name: str  # Python attribute name
    column: str  # SQL column name
    wire: str  # JSON key
    spec_type: str  # the spec's field type ("string", "ref", ..., or "id")
    sa_type: str
    py_type: str
    json_schema: dict[str, Any]
    nullable: bool
    primary_key: bool = False
    unique: bool = False
    index: bool = False
    foreign_key: ForeignKeyIR | None = None
    server_value: str | None = None  # id | now | today | uuid | current_user | created | updated | deleted | state | role
    has_default: bool = False
    default: Any = None
    on_create: bool = False  # a client may send it on create
    on_update: bool = False  # a client may change it
    readable: bool = True  # false for password hashes
    required_on_create: bool = False
    filter_ops: tuple[str, ...] = ()
    sortable: bool = False
    description: str | None = None
    example: Any = None
    slug_from: str | None = None  # slug columns: the attribute the slug is made from
    source: str = ""
    renamed_from: str | None = None  # the spec field's previous name (a migration renames the column)


@dataclass(frozen=True, slots=True)
class RelationIR:
    """An ORM relationship: to-one (via a foreign key column) or to-many."""

    name: str
    kind: str  # many_to_one | one_to_many | many_to_many
    target: str  # entity name
    wire: str
    fk_attribute: str | None = None  # many_to_one: the column attribute holding the key
    back_populates: str | None = None
    link_table: str | None = None  # many_to_many
    link_owner: bool = False  # many_to_many: this side's key is the link table's left column
    includable: bool = False
    source: str = ""


@dataclass(frozen=True, slots=True)
class LinkTableIR:
    """The association table of a many-to-many relation."""

    name: str
    left_table: str
    left_column: str
    right_table: str
    right_column: str
    left_type: str
    right_type: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class ConstraintIR:
    name: str  # deterministic, at most 63 bytes
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckIR:
    name: str
    sql: str  # a boolean SQL expression over quoted column names
    source: str = ""


@dataclass(frozen=True, slots=True)
class InvariantIR:
    """A cross-field condition every stored record must meet, and where it is enforced.

    ``constraint`` names the database CHECK when SQL keeps the condition's meaning
    (then the database enforces it and the app maps the violation); otherwise the app
    checks it: ``python`` over the row before it is written, or ``sql`` (a SQLAlchemy
    value over the model) against the written row inside the transaction.
    """

    name: str
    message: str
    text: str  # the spec's expression, for comments
    english: str
    source: str
    constraint: str | None = None
    python: str | None = None
    sql: str | None = None


@dataclass(frozen=True, slots=True)
class NotificationIR:
    """A spec notification, compiled: who gets it (SQL) and its message (SQL values between texts).

    ``recipients`` is a SQLAlchemy condition over the entity's model and ``user``, which the
    generated code binds to an alias of the user model (so ``user == record.submitter`` picks the
    submitter). ``parts`` alternate literal text and compiled placeholder values.
    """

    name: str
    event: str  # created | updated | deleted | changed | transition
    field: str | None  # event changed: the attribute whose change triggers it
    transitions: tuple[str, ...]
    recipients: str
    parts: tuple[tuple[str, str], ...]  # ("text", literal) | ("sql", SQLAlchemy source over the model and user)
    to_text: str
    message: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class FieldRuleIR:
    """Who may read or write one field: a rule over ``user`` and ``record``, as a Python predicate.

    ``python`` is None when the rule needs the database (it follows relations); such a
    field is then shown to nobody and written by nobody: deny unless a rule allows.
    """

    attr: str  # the column attribute
    wire: str
    op: str  # read | write
    id: str  # e.g. Employee.bank_account.read
    text: str
    english: str
    source: str
    python: str | None
    parts: tuple[tuple[str, str], ...] = ()  # each rule as written: (allow | deny, expression); for docs


@dataclass(frozen=True, slots=True)
class ComputedIR:
    """A read-only value computed in SQL with every query that loads its record.

    ``sql`` is a SQLAlchemy value over the model, built per request (it may read
    ``user`` and ``_today()``), so it can be selected, filtered and sorted on.
    """

    name: str  # attribute on the model (a query_expression)
    wire: str
    spec_type: str  # boolean | integer | decimal | string | date | datetime
    py_type: str
    sql: str | None  # None: no portable SQL; computed in Python from the loaded row instead
    json_schema: dict[str, Any]
    filter_ops: tuple[str, ...]
    sortable: bool
    scale: int | None  # decimals: rounded to this many places on the wire
    rounding: str  # decimal rounding mode, e.g. ROUND_HALF_EVEN
    text: str
    source: str
    python: str | None = None  # over the loaded ``record``, when there is no portable SQL


@dataclass(frozen=True, slots=True)
class OrderIR:
    column: str  # attribute name
    descending: bool


@dataclass(frozen=True, slots=True)
class EndpointIR:
    method: str
    path: str
    kind: str
    name: str
    operation_id: str
    source: str = ""


@dataclass(frozen=True, slots=True)
class RuleIR:
    """One allow or deny rule, compiled to the source of a SQLAlchemy boolean expression."""

    id: str  # reported when this rule decides a refusal
    effect: str  # allow | deny
    sql: str
    text: str  # the rule as written in the spec
    english: str
    source: str


@dataclass(frozen=True, slots=True)
class OperationRulesIR:
    op: str
    access: str  # public | authenticated | denied
    rules: tuple[RuleIR, ...]  # only for "authenticated": rules that depend on the user or the record


@dataclass(frozen=True, slots=True)
class ConditionIR:
    """A compiled guard, approval condition or query filter: SQLAlchemy source and what the spec said."""

    id: str  # reported when it decides a refusal
    sql: str  # a SQLAlchemy boolean over the model (and ``user``, ``input``)
    text: str  # the expression as written in the spec
    english: str
    source: str
    uses_input: bool = False


@dataclass(frozen=True, slots=True)
class EffectIR:
    """One effect of a transition or action: ``set`` a column, ``add``/``remove`` a link."""

    kind: str  # set | add | remove
    target: str  # set: the column attribute; add/remove: the many relation
    value: str  # Python source of the value, over ``user``, ``input`` and ``record`` (a loaded row)
    value_is_sql: bool  # the value needs the database: a SQLAlchemy expression over the model instead
    text: str
    source: str
    link_table: str | None = None  # add/remove: the link table and its columns (this record, the other)
    this_column: str | None = None
    other_column: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalStepIR:
    index: int
    role: str
    when: ConditionIR | None  # the step is required only when this holds


@dataclass(frozen=True, slots=True)
class ApprovalsIR:
    steps: tuple[ApprovalStepIR, ...]
    exclude: ConditionIR | None  # holds when the user may not approve (e.g. is the submitter)
    distinct: bool
    source: str


@dataclass(frozen=True, slots=True)
class HookIR:
    """A user function the generated app calls inside a write's transaction (generator/ir/extensions.py)."""

    id: str  # the registry key in extensions.py, e.g. ExpenseReport.before_create, ExpenseReport.submit
    point: str  # before_create | after_create | before_update | after_update | before_delete | transition | action
    module: str  # the module's name under ``extensions.modules``
    function: str
    source: str


@dataclass(frozen=True, slots=True)
class ExtensionsIR:
    """User modules beside the spec, loaded by the generated app at start-up."""

    modules: tuple[tuple[str, str], ...]  # (name, file relative to the spec directory)
    hooks: tuple[HookIR, ...]  # every hook, entity and command ones
    routers: tuple[tuple[str, str, str], ...]  # (module, attribute, source)
    middleware: tuple[tuple[str, str, str], ...]
    source: str


@dataclass(frozen=True, slots=True)
class CommandIR:
    """A transition or an action: one endpoint that checks, then changes one record."""

    kind: str  # transition | action
    name: str
    method: str
    path: str
    operation_id: str
    description: str
    sources: tuple[str, ...]  # transition: the states it may start from (every state for ``*``)
    target: str | None  # transition: the state it ends in
    roles: tuple[str, ...]
    rules: tuple[RuleIR, ...]  # the permission, compiled like the CRUD rules
    guard: ConditionIR | None
    input: tuple[ColumnIR, ...]  # the request body's fields (``name`` is the input name, not ``<ref>_id``)
    effects: tuple[EffectIR, ...]
    approvals: ApprovalsIR | None = None
    frozen: tuple[str, ...] = ()  # fields its effects change that a frozen rule may cover
    source: str = ""
    hook: HookIR | None = None  # a user function called after the effects, before the commit


@dataclass(frozen=True, slots=True)
class QueryIR:
    name: str
    path: str
    operation_id: str
    description: str
    where: ConditionIR
    order: tuple[OrderIR, ...]
    source: str = ""


@dataclass(frozen=True, slots=True)
class FrozenIR:
    """Fields that may not change while the record is in one of ``states`` (or send it to ``return_to``)."""

    states: tuple[str, ...]
    columns: tuple[str, ...]  # column attributes
    children: tuple[tuple[str, str, str], ...]  # has_many fields: (child entity, its key attribute, field)
    relations: tuple[str, ...]  # many relations (changed only by add/remove effects)
    return_to: str | None
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class WorkflowIR:
    field: str  # the state column attribute
    states: tuple[str, ...]
    initial: str
    final: tuple[str, ...]
    transitions: tuple[CommandIR, ...]
    frozen: tuple[FrozenIR, ...]
    source: str = ""


@dataclass(frozen=True, slots=True)
class EntityIR:
    name: str  # class name
    module: str  # snake_case module name
    table: str
    plural: str
    collection_path: str
    lookup: str  # attribute used in item paths
    id_strategy: str
    columns: tuple[ColumnIR, ...]
    relations: tuple[RelationIR, ...]
    unique_constraints: tuple[ConstraintIR, ...]
    indexes: tuple[ConstraintIR, ...]
    checks: tuple[CheckIR, ...]
    ordering: tuple[OrderIR, ...]
    operations: tuple[str, ...]
    access: tuple[tuple[str, str], ...]  # (operation, public | authenticated | denied)
    endpoints: tuple[EndpointIR, ...]
    envelope: bool
    envelope_one: str
    envelope_many: str
    envelope_count: str
    pagination: str
    soft_delete: bool
    timestamps: bool
    audit: bool
    description: str
    source: str = ""
    rules: tuple[OperationRulesIR, ...] = ()
    invariants: tuple[InvariantIR, ...] = ()
    field_rules: tuple[FieldRuleIR, ...] = ()
    computed: tuple[ComputedIR, ...] = ()
    notifications: tuple[NotificationIR, ...] = ()
    audit_redacted: tuple[str, ...] = ()  # attributes the audit trail stores as "[redacted]" (write-only)
    audit_hidden: tuple[str, ...] = ()  # attributes stored but not shown by the history endpoint (field read rules)
    workflow: WorkflowIR | None = None  # transitions, approvals and frozen fields (generator/ir/workflows.py)
    actions: tuple[CommandIR, ...] = ()
    queries: tuple[QueryIR, ...] = ()
    hooks: tuple[HookIR, ...] = ()  # user functions at CRUD points (before_create, ...)
    renamed_from: str | None = None  # the entity's previous name (a migration renames the table)


@dataclass(frozen=True, slots=True)
class AuthIR:
    """Who signs in, with what; from the spec's ``auth:`` section."""

    user_entity: str  # model class name
    user_table: str
    identity: str  # column attribute users log in with (e.g. email)
    identity_wire: str
    password: str  # column attribute holding the argon2 hash (e.g. password_hash)
    password_wire: str  # the field name clients send the plain password as
    roles: tuple[str, ...]
    default_role: str
    signup: bool
    active: str | None  # boolean column attribute; inactive users cannot sign in or act
    scheme: str  # the word in the Authorization header (Bearer, Token)


@dataclass(frozen=True, slots=True, weakref_slot=True)  # weakref: targets memoise views per IR
class AppIR:
    name: str
    package: str
    title: str
    version: str
    description: str
    spec_file: str  # main spec file, relative to the spec directory
    prefix: str
    wire_names: str
    auth_scheme: str
    error_format: str
    validation_status: int
    page_size_default: int
    page_size_max: int
    entities: tuple[EntityIR, ...]
    link_tables: tuple[LinkTableIR, ...]
    endpoints: tuple[EndpointIR, ...]
    auth: AuthIR | None = None
    scenarios: tuple[Any, ...] = ()  # generator.ir.spec_scenarios.ScenarioIR, sorted by name
    extensions: ExtensionsIR | None = None  # user modules: hooks, routers, middleware
