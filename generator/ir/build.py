"""Build the IR from a validated spec: every name, type, key and constraint decided here.

Input is a spec that passed every check (the generator never runs on a spec with
errors), so lookups here cannot fail. The builder is a pure function of the spec
and the source map: same spec, same IR, byte for byte.
"""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal
from pathlib import Path

from generator.ir.nodes import (
    AppIR, AuthIR, CheckIR, ColumnIR, ConstraintIR, EndpointIR, EntityIR, ForeignKeyIR, LinkTableIR, OrderIR, RelationIR,
)
from generator.ir.types import decimal_digits, id_storage, scalar_storage
from generator.loader.sourcemap import SourceMap
from generator.model.spec import Entity, Field, Spec
from generator.naming import pluralize, snake, table_name, wire_name
from generator.routes import all_endpoints, collection_path, entity_endpoints, lookup_field

__all__ = ["build_ir", "constraint_name"]

ON_DELETE_SQL = {"cascade": "CASCADE", "restrict": "RESTRICT", "set_null": "SET NULL"}
FILTER_OPS = {
    "string": ("eq", "in", "contains"), "text": ("contains",), "email": ("eq", "in", "contains"),
    "url": ("eq",), "slug": ("eq", "in"), "integer": ("eq", "in", "gt", "gte", "lt", "lte"),
    "decimal": ("eq", "gt", "gte", "lt", "lte"), "boolean": ("eq",), "date": ("eq", "gt", "gte", "lt", "lte"),
    "datetime": ("gt", "gte", "lt", "lte"), "uuid": ("eq", "in"), "enum": ("eq", "in"), "ref": ("eq", "in"),
}
SERVER_FIELDS = {"created_at": "created", "updated_at": "updated", "deleted_at": "deleted"}


def constraint_name(prefix: str, table: str, columns: tuple[str, ...]) -> str:
    """``uq_tasks_project_id_title``; shortened with a stable hash past PostgreSQL's 63 bytes."""
    name = f"{prefix}_{table}_{'_'.join(columns)}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:54]}_{digest}"


class _Locator:
    def __init__(self, source_map: SourceMap, root: Path) -> None:
        self.source_map, self.root = source_map, root.resolve()

    def __call__(self, pointer: str) -> str:
        span = self.source_map.key_span(pointer)
        if span is None:
            return ""
        try:
            file = Path(span.file).resolve().relative_to(self.root).as_posix()
        except ValueError:
            file = Path(span.file).name
        return f"{file}:{span.line}"


def build_ir(spec: Spec, source_map: SourceMap, root: Path, spec_file: str = "keel.yaml") -> AppIR:
    from generator.ir.computed import attach_computed  # the compilers read the IR: imported late
    from generator.ir.extensions import attach_extensions
    from generator.ir.field_access import attach_field_access
    from generator.ir.invariants import attach_invariants
    from generator.ir.rules import attach_rules
    from generator.ir.spec_scenarios import attach_scenarios
    from generator.ir.trail import attach_trail
    from generator.ir.workflows import attach_workflows

    where = _Locator(source_map, root)
    link_tables = _link_tables(spec, where)
    entities = tuple(_entity(spec, e, where, link_tables) for e in spec.entities)
    endpoints = tuple(
        EndpointIR(ep.method, ep.path, ep.kind, ep.name, _operation_id(ep), where(ep.pointer))
        for ep in all_endpoints(spec)
    )
    ir = AppIR(
        name=spec.app.name,
        package=spec.app.name,
        title=spec.app.title,
        version=spec.app.version,
        description=spec.app.description,
        spec_file=spec_file,
        prefix=spec.api.prefix,
        wire_names=spec.api.wire_names,
        auth_scheme=spec.api.auth_scheme,
        error_format=spec.api.error_format,
        validation_status=spec.api.validation_status,
        page_size_default=spec.api.page_size_default,
        page_size_max=spec.api.page_size_max,
        entities=entities,
        link_tables=tuple(sorted({t.name: t for t in link_tables.values()}.values(), key=lambda t: t.name)),
        endpoints=endpoints,
        auth=_auth(spec),
    )
    ir = attach_invariants(attach_rules(ir, spec, where), spec, where, constraint_name)
    ir = attach_computed(attach_field_access(ir, spec, where), spec, where)
    ir = attach_workflows(attach_trail(ir, spec, where), spec, where)
    ir = attach_scenarios(ir, spec, where)  # the spec's own tests, resolved into requests
    return attach_extensions(ir, spec, where)  # hooks need the commands built above


def _auth(spec: Spec) -> AuthIR | None:
    auth = spec.auth
    if auth is None:
        return None
    user = spec.entity(auth.user.name)
    roles = tuple(r.name for r in auth.roles)
    return AuthIR(
        user_entity=user.name,
        user_table=table_name(user.name, user.plural, user.table),
        identity=auth.identity.name,
        identity_wire=wire_name(auth.identity.name, spec.api.wire_names),
        password=f"{auth.password.name}_hash",
        password_wire=wire_name(auth.password.name, spec.api.wire_names),
        roles=roles,
        default_role=auth.default_role.name if auth.default_role else roles[0],
        signup=auth.signup,
        active=auth.active_field.name if auth.active_field else None,
        scheme=spec.api.auth_scheme,
    )


def _operation_id(ep) -> str:
    entity = snake(ep.entity) if ep.entity else "auth"
    verbs = {"list": "list", "read": "get", "create": "create", "update": "update", "delete": "delete"}
    if ep.kind in verbs:
        return f"{verbs[ep.kind]}_{pluralize(entity) if ep.kind == 'list' else entity}"
    return f"{ep.name}_{entity}" if ep.kind != "auth" else f"auth_{ep.name}"


def _id_column(entity: Entity, source: str) -> ColumnIR:
    storage = id_storage(entity.id_strategy)
    return ColumnIR("id", "id", "id", "id", storage.sa_type, storage.py_type, storage.json_schema, nullable=False,
                    primary_key=True, server_value="id", filter_ops=(), sortable=False, source=source)


def _entity(spec: Spec, entity: Entity, where: _Locator, links: dict[tuple[str, str], LinkTableIR]) -> EntityIR:
    wires = spec.api.wire_names
    table = table_name(entity.name, entity.plural, entity.table)
    filters = {r.name for r in entity.filters}
    sortable = {r.name for r in entity.sort}
    columns: list[ColumnIR] = [_id_column(entity, where(entity.pointer))]
    relations: list[RelationIR] = []
    checks: list[CheckIR] = []
    includable = {r.name for r in entity.include}
    for f in entity.fields:
        if f.name == "id":
            continue
        if f.type == "ref":
            columns.append(_fk_column(spec, entity, f, filters, sortable, wires, where))
            relations.append(RelationIR(f.name, "many_to_one", f.to.name, wire_name(f.name, wires),
                                        fk_attribute=f"{f.name}_id", back_populates=_inverse_of(spec, entity, f),
                                        includable=f.name in includable, source=where(f.pointer)))
        elif f.type == "has_many":
            via = f.via.name if f.via else _only_ref(spec, entity, f)
            relations.append(RelationIR(f.name, "one_to_many", f.to.name, wire_name(f.name, wires),
                                        back_populates=via, includable=f.name in includable,
                                        source=where(f.pointer)))
        elif f.type == "many":
            link = links[(entity.name, f.name)]
            relations.append(RelationIR(f.name, "many_to_many", f.to.name, wire_name(f.name, wires),
                                        back_populates=_mirror_of(spec, entity, f), link_table=link.name,
                                        link_owner=f.via is None,
                                        includable=f.name in includable, source=where(f.pointer)))
        else:
            column = _scalar_column(entity, f, filters, sortable, wires, where)
            columns.append(column)
            checks.extend(_checks_for(table, f, column, where))
    columns.append(ColumnIR("lock_version", "lock_version", "lock_version", "integer", "Integer()", "int",
                            {"type": "integer"}, nullable=False, server_value="version", readable=False,
                            has_default=True, default=1, source=where(entity.pointer)))
    # A list without ?sort= pages in the default order: index its leading column, or every such
    # list reads and sorts the whole table (1.2 s at a million rows on SQLite; bench/api_bench.py).
    ordering = _ordering(entity)
    if ordering:
        leading = ordering[0].column
        columns = [dataclasses.replace(c, index=True) if c.name == leading and not (c.index or c.unique or c.primary_key)
                   else c for c in columns]
    lookup = lookup_field(entity)
    return EntityIR(
        name=entity.name,
        module=snake(entity.name),
        table=table,
        plural=snake(entity.plural) if entity.plural else pluralize(snake(entity.name)),
        collection_path=spec.api.prefix + collection_path(entity),
        lookup=lookup,
        id_strategy=entity.id_strategy,
        columns=tuple(columns),
        relations=tuple(relations),
        unique_constraints=tuple(
            ConstraintIR(constraint_name("uq", table, cols), cols)
            for cols in (tuple(_attr(entity, r.name) for r in group) for group in entity.unique)
        ),
        indexes=tuple(
            ConstraintIR(constraint_name("ix", table, cols), cols)
            for cols in (tuple(_attr(entity, r.name) for r in group) for group in entity.indexes)
        ),
        checks=tuple(checks),
        ordering=ordering,
        operations=entity.operations,
        access=tuple((op, access_of(entity, op)) for op in entity.operations),
        endpoints=tuple(
            EndpointIR(ep.method, ep.path, ep.kind, ep.name, _operation_id(ep), where(ep.pointer))
            for ep in entity_endpoints(spec, entity)
        ),
        envelope=entity.api.envelope if entity.api.envelope is not None else spec.api.envelope,
        envelope_one=entity.api.envelope_one or wire_name(snake(entity.name), wires),
        envelope_many=entity.api.envelope_many or wire_name(_plural(entity), wires),
        envelope_count=entity.api.envelope_count or wire_name(_plural(entity) + "_count", wires),
        pagination=entity.api.pagination or spec.api.pagination,
        soft_delete=entity.soft_delete,
        timestamps=entity.timestamps,
        audit=entity.audit,
        description=entity.description or "",
        source=where(entity.pointer),
        renamed_from=entity.renamed_from,
    )


def access_of(entity: Entity, op: str) -> str:
    """Until rules are compiled (the trust layer), only a rule that is literally ``true`` lets anyone in.

    Everything else is refused, never allowed by accident: rules that need the
    signed-in user give ``authenticated`` (401 until sign-in exists), no rule or
    only ``false`` gives ``denied`` (403).
    """
    rules = entity.permissions.get(op)
    if rules is None or not rules.rules:
        return "denied"
    texts = [(r.effect, r.expr.text.strip()) for r in rules.rules]
    if all(effect == "allow" and text == "true" for effect, text in texts):
        return "public"
    if all(text == "false" for effect, text in texts if effect == "allow"):
        return "denied"
    return "authenticated"


def _plural(entity: Entity) -> str:
    return snake(entity.plural) if entity.plural else pluralize(snake(entity.name))


def _attr(entity: Entity, name: str) -> str:
    """The column attribute for a field name: refs are stored as ``<name>_id``."""
    f = entity.field(name)
    return f"{name}_id" if f is not None and f.type == "ref" else name


def _ordering(entity: Entity) -> tuple[OrderIR, ...]:
    written = [OrderIR(_attr(entity, r.name.lstrip("-")), r.name.startswith("-")) for r in entity.ordering]
    if not written:
        written = [OrderIR("created_at", True)] if entity.timestamps else []
    if all(o.column != "id" for o in written):
        written.append(OrderIR("id", False))  # a unique tie-breaker makes keyset pagination exact
    return tuple(written)


def _scalar_column(entity: Entity, f: Field, filters: set[str], sortable: set[str], wires: str,
                   where: _Locator) -> ColumnIR:
    storage = scalar_storage(f)
    server = SERVER_FIELDS.get(f.name) if f.synthesized else None
    if f.synthesized and f.name == "role":
        server = "role"
    elif f.synthesized and f.type == "enum":
        server = "state"
    if f.auto:
        server = f.auto
    is_password = f.type == "password"
    name = f"{f.name}_hash" if is_password else f.name
    column = f.column or name
    writable = not f.read_only and server is None
    return ColumnIR(
        name=name,
        column=column,
        wire=wire_name(f.name, wires),
        spec_type=f.type,
        sa_type=storage.sa_type,
        py_type=storage.py_type,
        json_schema=_with_docs(storage.json_schema, f),
        nullable=not f.required or f.name == "deleted_at",
        unique=f.unique or f.type == "slug",
        index=(f.index or f.name in filters or f.name in sortable) and not f.unique and f.type != "slug",
        server_value=server,
        has_default=f.has_default,
        default=_json_default(f),
        on_create=writable and f.type != "slug",
        on_update=writable and not f.write_once and f.type != "slug",
        readable=not is_password and f.name != "deleted_at",
        required_on_create=writable and f.required and not f.has_default and f.type != "slug",
        filter_ops=FILTER_OPS.get(f.type, ()) if f.name in filters else (),
        sortable=f.name in sortable,
        description=f.description,
        example=f.example if f.has_example else None,
        slug_from=f.slug_from.name if f.slug_from else None,
        source=where(f.pointer),
        renamed_from=f.renamed_from,
    )


def _fk_column(spec: Spec, entity: Entity, f: Field, filters: set[str], sortable: set[str], wires: str,
               where: _Locator) -> ColumnIR:
    target = spec.entity(f.to.name)
    storage = id_storage(target.id_strategy)
    attr = f"{f.name}_id"
    server = "current_user" if f.auto == "current_user" else None
    writable = not f.read_only and server is None
    return ColumnIR(
        name=attr,
        column=f.column or attr,
        wire=wire_name(attr, wires),
        spec_type="ref",
        sa_type=storage.sa_type,
        py_type=storage.py_type,
        json_schema=_with_docs(storage.json_schema, f),
        nullable=not f.required,
        index=True,
        foreign_key=ForeignKeyIR(target.name, table_name(target.name, target.plural, target.table), "id",
                                 ON_DELETE_SQL[f.on_delete or "restrict"]),
        server_value=server,
        on_create=writable,
        on_update=writable and not f.write_once,
        required_on_create=writable and f.required,
        filter_ops=FILTER_OPS["ref"] if f.name in filters else (),
        sortable=False,
        description=f.description,
        source=where(f.pointer),
        renamed_from=f.renamed_from,
    )


def _with_docs(schema: dict, f: Field) -> dict:
    out = dict(schema)
    if f.description:
        out["description"] = f.description
    if f.has_example and f.type != "password":
        out["examples"] = [f.example]
    return out


def _json_default(f: Field):
    if not f.has_default:
        return None
    if f.type == "decimal" and f.default is not None:
        return str(Decimal(str(f.default)).quantize(Decimal(1).scaleb(-decimal_digits(f)[1])))
    return f.default


def _checks_for(table: str, f: Field, column: ColumnIR, where: _Locator) -> list[CheckIR]:
    """CHECK constraints for what SQL can say portably: enum values, numeric bounds, minimum lengths."""
    col = f'"{column.column}"'
    out: list[CheckIR] = []
    if f.type == "enum":
        values = ", ".join(f"'{v}'" for v in f.values)  # values are validated: letters, digits, _ . -
        out.append(CheckIR(constraint_name("ck", table, (column.column, "enum")), f"{col} IN ({values})",
                           where(f.pointer)))
    if f.type in ("integer", "decimal"):
        if f.min is not None:
            out.append(CheckIR(constraint_name("ck", table, (column.column, "min")), f"{col} >= {Decimal(str(f.min))}",
                               where(f.pointer)))
        if f.max is not None:
            out.append(CheckIR(constraint_name("ck", table, (column.column, "max")), f"{col} <= {Decimal(str(f.max))}",
                               where(f.pointer)))
    if f.type in ("string", "text") and f.min_length:
        out.append(CheckIR(constraint_name("ck", table, (column.column, "min_length")),
                           f"length({col}) >= {int(f.min_length)}", where(f.pointer)))
    return out


def _inverse_of(spec: Spec, entity: Entity, ref: Field) -> str | None:
    """The has_many on the target that mirrors this ref, if one is declared."""
    target = spec.entity(ref.to.name)
    for g in target.fields:
        if g.type == "has_many" and g.to is not None and g.to.name == entity.name:
            via = g.via.name if g.via else _only_ref(spec, target, g)
            if via == ref.name:
                return g.name
    return None


def _only_ref(spec: Spec, entity: Entity, has_many: Field) -> str:
    target = spec.entity(has_many.to.name)
    [ref] = [g for g in target.fields if g.type == "ref" and g.to is not None and g.to.name == entity.name]
    return ref.name


def _mirror_of(spec: Spec, entity: Entity, many: Field) -> str | None:
    if many.via is not None:
        return many.via.name
    target = spec.entity(many.to.name)
    for g in target.fields:
        if g.type == "many" and g.via is not None and g.via.name == many.name and g.to.name == entity.name:
            return g.name
    return None


def _link_tables(spec: Spec, where: _Locator) -> dict[tuple[str, str], LinkTableIR]:
    """One link table per many-to-many pair; the mirror side (with ``via``) shares its owner's."""
    out: dict[tuple[str, str], LinkTableIR] = {}
    for entity in spec.entities:
        for f in entity.fields:
            if f.type != "many" or f.via is not None:
                continue
            target = spec.entity(f.to.name)
            left = f"{snake(entity.name)}_id"
            right = f"{snake(target.name)}_id" if target.name != entity.name else f"{f.name}_id"
            link = LinkTableIR(
                name=f.through or f"{snake(entity.name)}_{f.name}",
                left_table=table_name(entity.name, entity.plural, entity.table),
                left_column=left,
                right_table=table_name(target.name, target.plural, target.table),
                right_column=right,
                left_type=id_storage(entity.id_strategy).sa_type,
                right_type=id_storage(target.id_strategy).sa_type,
                source=where(f.pointer),
            )
            out[(entity.name, f.name)] = link
    for entity in spec.entities:
        for f in entity.fields:
            if f.type == "many" and f.via is not None:
                owner = out[(f.to.name, f.via.name)]
                out[(entity.name, f.name)] = owner
    return out
