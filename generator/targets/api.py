"""View-models for the API modules: Pydantic input models, serialisers and routers per entity.

Everything a router template prints is decided here: which query parameters a
list accepts and how each becomes SQL, which fields a client may send, how a row
becomes JSON, and who may call each operation. The generator knows every type
ahead of time, so the generated code parses and serialises without reflection.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from generator.ir.nodes import AppIR, ColumnIR, EntityIR, RelationIR
from generator.layout import call, py_str

# Python annotation of each spec type in an input model (decimals get a per-field type, see _input_type).
_INPUT_TYPES = {
    "string": "str", "text": "str", "email": "str", "url": "str", "slug": "str", "password": "str",
    "integer": "int", "boolean": "bool", "date": "datetime.date", "datetime": "AwareDatetime",
    "uuid": "uuid.UUID", "json": "JsonValue", "ref": None, "enum": None, "decimal": None,
}
# How a filter value in a query string is parsed, by spec type.
_QUERY_PARSERS = {
    "string": "parse_text", "text": "parse_text", "email": "parse_text", "url": "parse_text", "slug": "parse_text",
    "enum": "parse_text", "integer": "parse_int", "decimal": "parse_decimal", "boolean": "parse_bool", "date": "parse_date",
    "datetime": "parse_datetime", "uuid": "parse_uuid", "ref": None,
}
_OPS = {"eq": "==", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass(frozen=True)
class InputField:
    name: str  # Python attribute (the column attribute)
    wire: str
    annotation: str
    default: str | None  # Python source of the default, None when required

    @property
    def code(self) -> str:
        """The model's field line, laid out as black prints it in a class body.

        The alias is declared only when the wire name is not the attribute's (camelCase wire names).
        """
        if self.wire == self.name:
            return f"{self.name}: {self.annotation}" + ("" if self.default is None else f" = {self.default}")
        args = ([self.default] if self.default is not None else []) + [f'alias="{self.wire}"']
        return call(f"{self.name}: {self.annotation} = Field", args, 4)


@dataclass(frozen=True)
class FilterParam:
    param: str  # query parameter name
    parse: str  # parser function name
    clause: str  # Python source of the SQLAlchemy clause, using `value`
    many: bool  # comma-separated list (the `in` operator)
    column: str = ""  # Python source of the filtered value (a column, or a computed field's SQL)
    op: str = ""  # eq, in, contains, gt, gte, lt, lte: the comparison (crud.filters in the app)


@dataclass(frozen=True)
class SortKey:
    wire: str
    column: str  # Python source: Model.attr
    nullable: bool
    parse: str


@dataclass(frozen=True)
class Include:
    wire: str
    name: str
    loader: str  # Python source of the loader function: joinedload or selectinload
    relationship: str  # Python source of the relationship attribute
    to_many: bool
    target_serializer: str
    # Function in the app's visibility module that filters the embedded records by the
    # target's read rule; None when everyone may read the target (its rule is `true`).
    visible: str | None


@dataclass(frozen=True)
class EntityApiView:
    name: str
    module: str
    table: str
    collection_path: str
    item_path: str
    lookup: str
    lookup_wire: str
    lookup_parse: str
    operations: tuple[str, ...]
    access: dict[str, str]  # op -> public | authenticated | denied
    create_fields: tuple[InputField, ...]
    update_fields: tuple[InputField, ...]
    server_fields: tuple[str, ...]  # wire names a client may never send
    write_once_fields: tuple[str, ...]
    read_fields: tuple[tuple[str, str], ...]  # (wire, Python source of the value)
    filters: tuple[FilterParam, ...]
    sorts: tuple[SortKey, ...]
    default_order: tuple[tuple[str, bool], ...]  # (wire of a sort key or "id", descending)
    includes: tuple[Include, ...]
    slug: tuple[str, str] | None  # (slug attribute, source attribute)
    refs: tuple[tuple[str, str, str], ...]  # (attribute, wire, target model) to check before writing
    soft_delete: bool
    envelope: bool
    envelope_one: str
    envelope_many: str
    envelope_count: str
    pagination: str
    page_size_default: int
    page_size_max: int
    state_field: str | None


# Views already built, per IR (by identity, forgotten when the IR is): every target asks for
# the same views, and building them again per call made generation quadratic in entities.
_VIEWS: dict[int, tuple[dict[str, EntityIR], dict[str, EntityApiView]]] = {}


def api_view(ir: AppIR, e: EntityIR) -> EntityApiView:
    """The API view of entity ``e`` of ``ir``, built once per IR."""
    memo = _VIEWS.get(id(ir))
    if memo is None:
        memo = _VIEWS[id(ir)] = ({x.name: x for x in ir.entities}, {})
        weakref.finalize(ir, _VIEWS.pop, id(ir), None)
    by_name, views = memo
    if e.name not in views:
        views[e.name] = _build_view(ir, e, by_name)
    return views[e.name]


def _build_view(ir: AppIR, e: EntityIR, by_name: dict[str, EntityIR]) -> EntityApiView:
    lookup_col = next(c for c in e.columns if c.name == e.lookup)
    create = tuple(_input_field(e, c, for_update=False) for c in e.columns if c.on_create)
    update = tuple(_input_field(e, c, for_update=True) for c in e.columns if c.on_update)
    server = tuple(sorted(c.wire for c in e.columns if not c.on_create and not c.on_update and c.readable))
    write_once = tuple(sorted(c.wire for c in e.columns if c.on_create and not c.on_update))
    read = tuple((c.wire, _read_value(c)) for c in e.columns if c.readable)
    sorts = tuple(
        SortKey(c.wire, f"{e.name}.{c.name}", c.nullable, _query_parser(c)) for c in e.columns if c.sortable
    )
    slug_col = next((c for c in e.columns if c.spec_type == "slug"), None)
    slug_source = slug_col.slug_from if slug_col else None
    state = next((c.name for c in e.columns if c.server_value == "state"), None)
    return EntityApiView(
        name=e.name,
        module=e.module,
        table=e.table,
        collection_path=e.collection_path,
        item_path=f"{e.collection_path}/{{{e.lookup}}}",
        lookup=e.lookup,
        lookup_wire=lookup_col.wire,
        lookup_parse=_query_parser(lookup_col),
        operations=e.operations,
        access=dict(e.access),
        create_fields=create,
        update_fields=update,
        server_fields=server,
        write_once_fields=write_once,
        read_fields=read,
        filters=tuple(f for c in e.columns for f in _filters(e, c)),
        sorts=sorts,
        default_order=tuple((o.column, o.descending) for o in e.ordering),
        includes=tuple(_include(e, r, by_name) for r in e.relations if r.includable),
        slug=(slug_col.name, slug_source) if slug_col and slug_source else None,
        refs=tuple((c.name, c.wire, c.foreign_key.target_entity) for c in e.columns
                   if c.foreign_key is not None and (c.on_create or c.on_update)),
        soft_delete=e.soft_delete,
        envelope=e.envelope,
        envelope_one=e.envelope_one,
        envelope_many=e.envelope_many,
        envelope_count=e.envelope_count,
        pagination=e.pagination,
        page_size_default=ir.page_size_default,
        page_size_max=ir.page_size_max,
        state_field=state,
    )


def _input_type(c: ColumnIR) -> str:
    schema = c.json_schema
    if c.spec_type == "enum":
        return "Literal[" + ", ".join(py_str(v) for v in schema["enum"]) + "]"
    if c.spec_type == "ref":
        return "uuid.UUID" if c.py_type == "uuid.UUID" else "Annotated[Integer, Field(gt=0)]"
    if c.spec_type == "decimal":
        digits = c.sa_type[len("Numeric("):].split(",")
        bounds = [py_str(schema.get(k)) for k in ("x-minimum", "x-maximum")]
        return f"decimal_type({digits[0].strip()}, {digits[1].strip()}, {bounds[0]}, {bounds[1]})"
    base = _INPUT_TYPES[c.spec_type]
    constraints = []
    if base == "str":
        for key, arg in (("minLength", "min_length"), ("maxLength", "max_length"), ("pattern", "pattern")):
            if key in schema:
                constraints.append(f"{arg}={py_str(schema[key])}")
        if c.spec_type == "email":
            constraints.append(r'pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"')
        if c.spec_type == "url":
            constraints.append(r'pattern=r"^https?://[^\s]+$"')
        text = "str" if c.spec_type == "password" else "Text"  # Text: no NUL character (a password is only hashed)
        return f"Annotated[{text}, StringConstraints({', '.join(constraints)})]" if constraints else text
    if base == "int":
        return f"Annotated[Integer, Field(ge={schema['minimum']}, le={schema['maximum']})]"
    return base


def _input_field(e: EntityIR, c: ColumnIR, for_update: bool) -> InputField:
    annotation = _input_type(c)
    if c.nullable:
        annotation += " | None"
    if for_update:
        default = "None"  # PATCH: absent means unchanged (the router uses model_fields_set)
    elif c.has_default and c.default is not None:
        default = py_str(c.default) if c.spec_type != "decimal" else f'decimal.Decimal("{c.default}")'
    elif c.nullable or c.spec_type == "slug":
        default = "None"
    else:
        default = None
    return InputField(c.name, c.wire, annotation, default)


def _read_value(c: ColumnIR) -> str:
    if c.py_type == "decimal.Decimal":
        return f"decimal_text(row.{c.name})"
    return f"row.{c.name}"


def _query_parser(c: ColumnIR) -> str:
    if c.spec_type in ("ref", "id"):
        return "parse_uuid" if c.py_type == "uuid.UUID" else "parse_int"
    return _QUERY_PARSERS.get(c.spec_type) or "parse_text"


def _filters(e: EntityIR, c: ColumnIR) -> list[FilterParam]:
    parse = _query_parser(c)
    if c.spec_type == "enum":  # a value outside the enum is refused, not a filter that matches nothing
        parse = "one_of(" + ", ".join(py_str(v) for v in c.json_schema["enum"]) + ")"
    return filter_params(f"{e.name}.{c.name}", c.wire, c.spec_type, parse, c.filter_ops)


def filter_params(column: str, wire: str, spec_type: str, parse: str, ops: tuple[str, ...]) -> list[FilterParam]:
    """The query parameters filtering on one value (a column, or a computed field's SQL), with their clauses."""
    out = []
    # A decimal is compared exactly, as the number it is: bound as a plain NUMERIC, not cast to the column's
    # NUMERIC(p, s), which rounds it to the column's scale and overflows (a 500) past its digits.
    value = "sa.literal(value, sa.Numeric())" if spec_type == "decimal" else "value"
    for op in ops:
        if op == "in":
            out.append(FilterParam(f"{wire}__in", parse, f"{column}.in_(value)", True, column, op))
        elif op == "contains":
            out.append(FilterParam(f"{wire}__contains", "parse_text", f"{column}.contains(value, autoescape=True)",
                                   False, column, op))
        elif op == "eq":
            out.append(FilterParam(wire, parse, f"{column} == {value}", False, column, op))
        else:
            out.append(FilterParam(f"{wire}__{op}", parse, f"{column} {_OPS[op]} {value}", False, column, op))
    return out


def read_filter(target: EntityIR) -> str | None:
    """The visibility function for records of ``target``: its read rule, or nobody (deny by default)."""
    access = dict(target.access).get("read", "denied")
    if access == "public":
        return None
    return f"readable_{target.module}" if access == "authenticated" else "nobody"


def _include(e: EntityIR, r: RelationIR, by_name: dict[str, EntityIR]) -> Include:
    target = by_name[r.target]
    # to-one: the same query, one LEFT JOIN; to-many: one more query for all rows of the page.
    loader = "joinedload" if r.kind == "many_to_one" else "selectinload"
    return Include(r.wire, r.name, loader, f"{e.name}.{r.name}", r.kind != "many_to_one",
                   f"{target.module}_to_wire", read_filter(target))
