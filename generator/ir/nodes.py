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
