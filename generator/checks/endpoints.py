"""The URL space must be unambiguous and every path well-formed.

Two endpoints with the same method and path shape would shadow each other;
a custom path's parameters must be the record's lookup field; filters, sorts and
includes must name fields that can serve that purpose; permissions for an
operation that is switched off point at a mistake.
"""

from __future__ import annotations

import re

from generator.checks.context import CheckContext, article
from generator.loader.sourcemap import join_pointer
from generator.model.spec import Entity
from generator.routes import PARAM, all_endpoints, lookup_field

PATH = re.compile(r"(/([A-Za-z0-9._~-]+|\{[a-z][a-z0-9_]*\}))+\Z")
UNFILTERABLE = ("json", "password", "many", "has_many")
UNSORTABLE = ("json", "password", "many", "has_many", "ref", "boolean")


def check_endpoints(ctx: CheckContext) -> None:
    seen: dict[tuple[str, str], object] = {}
    for ep in all_endpoints(ctx.spec):
        key = (ep.method, ep.shape)
        if key in seen:
            first = seen[key]
            where = join_pointer(ep.pointer, "path") if ep.custom_path else ep.pointer
            ctx.report("K601", f"{ep.method} {ep.path} ({ep.kind} `{ep.name}`) is already {first.method} "
                       f"{first.path} ({first.kind} `{first.name}`)", where, at_key=not ep.custom_path,
                       hint="give one of them another `path:` or name", related=[("the first one", first.pointer)])
        else:
            seen[key] = ep
        if ep.custom_path and ep.entity is not None:
            _check_custom_path(ctx, ep)
    for entity in ctx.spec.entities:
        _check_list_options(ctx, entity)
        _check_disabled_operations(ctx, entity)


def _check_custom_path(ctx: CheckContext, ep) -> None:
    entity = ctx.entity(ep.entity)
    pointer = join_pointer(ep.pointer, "path")
    written = ep.path[len(ctx.spec.api.prefix):]
    if not PATH.match(written):
        ctx.report("K603", f"`{written}` is not a valid path", pointer,
                   hint="start with `/`, use letters, digits, `-`, `_`, `.` and `{param}` segments, no trailing `/`")
        return
    params = PARAM.findall(written)
    lookup = lookup_field(entity)
    for p in params:
        if p != lookup:
            ctx.report("K602", f"path parameter `{{{p}}}` is not declared: `{entity.name}` is looked up by "
                       f"`{lookup}`", pointer, hint=f"write `{{{lookup}}}`")
    if ep.kind in ("action", "transition") and not params:
        ctx.report("K603", f"{article(ep.kind)} path must name the record: add `{{{lookup}}}`", pointer,
                   hint=f"e.g. `{written.rstrip('/')}/{{{lookup}}}`")
    if ep.kind == "query" and params:
        ctx.report("K602", "a query path takes no parameters (it filters with `where`)", pointer,
                   hint="remove the `{...}` segment")


def _check_list_options(ctx: CheckContext, entity: Entity) -> None:
    for ref in entity.filters:
        f = entity.field(ref.name)
        if f is not None and f.type in UNFILTERABLE:
            ctx.report("K604", f"cannot filter on the {f.type} field `{f.name}`", ref.pointer,
                       hint="filter on scalar fields or refs")
    for ref in entity.sort:
        f = entity.field(ref.name)
        if f is not None and f.type in UNSORTABLE:
            ctx.report("K604", f"cannot sort on the {f.type} field `{f.name}`", ref.pointer,
                       hint="sort on text, numbers, dates or enums")
    # A field some readers may not see must not be a filter or sort key: the answer's membership or
    # order would reveal its value to them (field access is decided per row, after the query).
    for label, refs in (("filter", entity.filters), ("sort", entity.sort)):
        for ref in refs:
            f = entity.field(ref.name)
            if f is not None and f.access_read is not None:
                ctx.report("K604", f"cannot {label} on `{f.name}`: it has a read rule, and {label}ing on it would "
                           "let anyone infer its value", ref.pointer,
                           hint=f"remove `{f.name}` from `{'filters' if label == 'filter' else 'sort'}`")
    for ref in entity.include:
        f = entity.field(ref.name)
        if f is not None and not f.is_relation:
            ctx.report("K605", f"`{f.name}` is {article(f.type)} field, not a relation; only relations can be included",
                       ref.pointer, hint="list ref, many or has_many fields")
    if "list" not in entity.operations:
        for label, refs in (("filters", entity.filters), ("sort", entity.sort)):
            if refs:
                ctx.report("K606", f"`{label}` is declared but the list operation is switched off",
                           join_pointer(entity.pointer, label), at_key=True,
                           hint="add `list` to `operations`, or remove this")


def _check_disabled_operations(ctx: CheckContext, entity: Entity) -> None:
    if entity.permissions_pointer is None:
        return
    info = ctx.source_map.info
    for op in ("list", "read", "create", "update", "delete"):
        ptr = join_pointer(entity.permissions_pointer, op)
        if op not in entity.operations and info(ptr) is not None:
            ctx.report("K606", f"permission for `{op}`, but the {op} operation is switched off", ptr, at_key=True,
                       hint=f"add `{op}` to `operations`, or remove this rule")
