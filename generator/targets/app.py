"""The generated app's Python modules, and the context each template needs."""

from __future__ import annotations

from generator.ir.nodes import AppIR, EntityIR
from generator.naming import camel
from generator.targets.api import EntityApiView, SortKey, api_view


def _key(ir: AppIR, name: str) -> str:
    return camel(name) if ir.wire_names == "camelCase" else name


def _sort_keys(ir: AppIR, e: EntityIR, view: EntityApiView) -> tuple[list[SortKey], str]:
    """User-sortable keys plus the default order's columns; and the default sort in query syntax."""
    keys = {k.wire: k for k in view.sorts}
    default = []
    for attr, descending in view.default_order:
        column = next(c for c in e.columns if c.name == attr)
        if column.wire not in keys:
            parse = {"uuid.UUID": "parse_uuid", "int": "parse_int", "datetime.datetime": "parse_datetime",
                     "datetime.date": "parse_date", "decimal.Decimal": "parse_decimal", "bool": "parse_bool"}
            keys[column.wire] = SortKey(column.wire, f"{e.name}.{attr}", column.nullable,
                                        parse.get(column.py_type, "str"))
        default.append(("-" if descending else "") + column.wire)
    return list(keys.values()), ",".join(default)


def router_context(ir: AppIR, e: EntityIR, header: str) -> dict:
    view = api_view(ir, e)
    sort_keys, default_sort = _sort_keys(ir, e, view)
    targets = sorted({e.name} | {inc_target(ir, e, i.name) for i in view.includes} | {t for _, _, t in view.refs})
    serializers = sorted({f"{e.module}_to_wire"} | {i.target_serializer for i in view.includes})
    list_params = {"limit", "sort", "include", "cursor" if view.pagination == "cursor" else "offset"}
    list_params |= {f.param for f in view.filters}
    one_open, one_close = (f'{{"{view.envelope_one}": ', "}") if view.envelope else ("", "")
    return {
        "header": header,
        "package": ir.package,
        "source": e.source,
        "e": view,
        "plural": e.plural,
        "access": {op: kind for op, kind in view.access.items()},
        "access_imports": sorted(set(view.access.values())),
        "model_imports": targets,
        "serializer_imports": serializers,
        "list_params": sorted(list_params),
        "sort_keys": sort_keys,
        "default_sort": default_sort,
        "id_parse": "parse_uuid" if e.id_strategy == "uuid" else "parse_int",
        "list_key": view.envelope_many if view.envelope else "items",
        "next_key": _key(ir, "next_cursor"),
        "count_key": view.envelope_count if view.envelope else "total",
        "one_open": one_open,
        "one_close": one_close,
    }


def inc_target(ir: AppIR, e: EntityIR, relation: str) -> str:
    return next(r.target for r in e.relations if r.name == relation)
