"""The generated app's Python modules, and the context each template needs."""

from __future__ import annotations

from generator.compile import free_names
from generator.ir.nodes import AppIR, ComputedIR, EntityIR, InvariantIR, OperationRulesIR
from generator.naming import camel
from generator.targets.anonymous import WRITES, refuses_anonymous
from generator.layout import py_str
from generator.targets.api import EntityApiView, SortKey, api_view, filter_params, read_filter


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
                                        parse.get(column.py_type, "parse_text"))
        default.append(("-" if descending else "") + column.wire)
    return list(keys.values()), ",".join(default)


def _combined(rules: OperationRulesIR) -> str:
    """One boolean: some allow rule holds and no deny rule does."""
    allows = [r.sql for r in rules.rules if r.effect == "allow"]
    denies = [r.sql for r in rules.rules if r.effect == "deny"]
    allow = allows[0] if len(allows) == 1 else f"sa.or_({', '.join(allows)})"
    if not denies:
        return allow
    deny = denies[0] if len(denies) == 1 else f"sa.or_({', '.join(denies)})"
    return f"sa.and_({allow}, sa.not_({deny}))"


def _shown(rule) -> dict:  # type: ignore[no-untyped-def]
    # Rule text goes into comments on one line: whitespace (newlines included) collapses to spaces.
    return {"id": rule.id, "effect": rule.effect, "sql": rule.sql, "source": rule.source,
            "comment": " ".join(rule.text.split()), "english": repr(rule.english), "id_literal": repr(rule.id)}


def _names(ir: AppIR, rule_sets: list[OperationRulesIR], sources: tuple[str, ...] = ()) -> dict:
    """The models, helpers and modules the compiled source of ``rule_sets`` (and ``sources``) refers to."""
    names = free_names(*[rule.sql for rules in rule_sets for rule in rules.rules], *sources)
    names.discard("record")  # the parameter of a Python predicate
    tables = {x.name for x in ir.entities} | {t.name for t in ir.link_tables}
    return {
        "rule_models": sorted(names & tables),
        "rule_helpers": sorted(names & {"_today", "_utcnow"}),
        "rule_modules": sorted(names & {"datetime", "decimal"}),
    }


def _invariant(inv: InvariantIR) -> dict:
    return {"name": inv.name, "source": inv.source, "comment": " ".join(inv.text.split()), "python": inv.python,
            "sql": inv.sql, "name_literal": repr(inv.name), "message_literal": repr(inv.message)}


def rule_context(ir: AppIR, e: EntityIR) -> dict:
    """The compiled rules of each operation but read, and the names their code needs.

    The read rule lives in the visibility module: includes from other entities need it too.
    """
    by_op = {r.op: r for r in e.rules if r.rules and r.op != "read"}
    invariant_sources = tuple(x for inv in e.invariants for x in (inv.python, inv.sql) if x)
    invariant_sources += tuple(c.sql for c in e.computed if c.sql)
    return {
        "rules": {op: {"combined": _combined(r), "rules": [_shown(x) for x in r.rules]} for op, r in by_op.items()},
        **_names(ir, list(by_op.values()), invariant_sources),
        "python_invariants": [_invariant(inv) for inv in e.invariants if inv.python],
        "sql_invariants": [_invariant(inv) for inv in e.invariants if inv.sql],
        "has_auth": ir.auth is not None,
        "user_model": ir.auth.user_entity if ir.auth else None,
    }


def visibility_context(ir: AppIR) -> dict:
    """Each entity's compiled read rule, for the visibility module."""
    read_rules = [(e, next(r for r in e.rules if r.op == "read")) for e in ir.entities
                  if any(r.op == "read" and r.rules for r in e.rules)]
    return {
        "filters": [{"name": f"readable_{e.module}", "entity": e.name, "combined": _combined(r),
                     "rules": [_shown(x) for x in r.rules]} for e, r in read_rules],
        **_names(ir, [r for _, r in read_rules]),
    }


def _own_read_filter(e: EntityIR) -> str | None:
    """The entity's own compiled read rule, if it has one (an operation refused outright is 403 instead)."""
    name = read_filter(e)
    return name if name and name != "nobody" else None


def _needs_user(e: EntityIR, view: EntityApiView, rules: dict, current_user: list[str]) -> set[str]:
    """Operations whose handler must know who is asking."""
    ops = set(rules)
    if _own_read_filter(e):  # reads and writes load through the read rule (404 if hidden)
        ops |= {"read", "update", "delete"} & set(e.operations)
    if any(i.visible not in (None, "nobody") for i in view.includes):
        ops |= {"list", "read"} & set(e.operations)  # embedded records obey their own read rule
    if current_user and "create" in e.operations:
        ops.add("create")
    return ops


def router_context(ir: AppIR, e: EntityIR, header: str) -> dict:
    view = api_view(ir, e)
    by_name = {x.name: x for x in ir.entities}
    guarded = {f"{x.module}_to_wire" for x in [e, *(by_name[inc_target(ir, e, i.name)] for i in view.includes)]
               if any(r.op == "read" for r in x.field_rules)}
    rules = rule_context(ir, e)
    current_user = [c.name for c in e.columns if c.server_value == "current_user"]
    sort_keys, default_sort = _sort_keys(ir, e, view)
    targets = sorted({e.name} | {inc_target(ir, e, i.name) for i in view.includes} | {t for _, _, t in view.refs}
                     | set(rules["rule_models"]))
    serializers = sorted({f"{e.module}_to_wire"} | {i.target_serializer for i in view.includes})
    list_params = {"limit", "sort", "include", "cursor" if view.pagination == "cursor" else "offset"}
    computed_filters = [f for c in e.computed for f in _computed_filters(c)]
    list_params |= {f.param for f in computed_filters}
    one_open, one_close = (f'{{"{view.envelope_one}": ', "}") if view.envelope else ("", "")
    # Which row a read, update or delete loads: by its lookup and not soft-deleted (BY_KEY, built once
    # at import with a bound :key), and visible to the user (the read rule, per request).
    by_key = [f'{e.name}.{view.lookup} == bindparam("key")']
    by_key += [f"{e.name}.deleted_at.is_(None)"] if view.soft_delete else []
    visible = _own_read_filter(e)
    return {
        "header": header,
        "package": ir.package,
        "source": e.source,
        "e": view,
        "plural": e.plural,
        "access": {op: kind for op, kind in view.access.items()},
        "access_imports": sorted(set(view.access.values()) - {"authenticated"}),
        **rules,
        "auth_scheme": ir.auth_scheme,
        "current_user_fields": current_user,
        # Writes no anonymous request can pass: 401 first, before the body or the record is read.
        "refuses_anonymous": [op for op in WRITES if op in e.operations and refuses_anonymous(ir, e, op)],
        # Password fields arrive in plain text and are stored only as argon2 hashes.
        "password_fields": [c.name for c in e.columns if c.spec_type == "password"],
        "needs_user": sorted(_needs_user(e, view, rules["rules"], current_user)
                             | (set(e.operations) - {"delete"} if guarded or any(c.sql for c in e.computed) else set())),
        # Serializers that show some fields only to some users: they are given the user.
        "guarded_serializers": sorted(guarded),
        "pass_user": ", user" if guarded else "",
        "write_guards": [{"attr": r.attr, "wire": r.wire, "id": r.id, "source": r.source, "python": r.python,
                          "comment": " ".join(r.text.split()), "english": repr(r.english)}
                         for r in e.field_rules if r.op == "write"],
        # The visibility functions this router calls: its own read rule and its includes' targets'.
        "read_filter": _own_read_filter(e),
        "visibility_imports": sorted({f for f in [_own_read_filter(e), *(i.visible for i in view.includes)] if f}),
        "model_imports": targets,
        "serializer_imports": serializers,
        # Every query parameter of the list; the router spells the filters' as ``*FILTERS``.
        "list_params": sorted(list_params | {f.param for f in view.filters}),
        "list_params_code": [py_str(p) for p in sorted(list_params)] + (["*FILTERS"] if view.filters else []),
        "computed": [{"name": c.name, "sql": c.sql, "source": c.source, "comment": " ".join(c.text.split())}
                     for c in e.computed if c.sql],
        "computed_filters": computed_filters,
        "computed_sorts": [{"name": c.name, "wire": c.wire, "parse": _COMPUTED_PARSERS[c.spec_type]}
                           for c in e.computed if c.sortable],
        "sort_keys": sort_keys,
        "default_sort": default_sort,
        "id_parse": "parse_uuid" if e.id_strategy == "uuid" else "parse_int",
        "list_key": view.envelope_many if view.envelope else "items",
        "next_key": _key(ir, "next_cursor"),
        "count_key": view.envelope_count if view.envelope else "total",
        "one_open": one_open,
        "one_close": one_close,
        "by_key": f"select({e.name}).where({', '.join(by_key)})",
        "load_statement": f"BY_KEY.where({visible}(user))" if visible else "BY_KEY",
        "load_key": f'{{"key": parse_lookup({view.lookup}, {view.lookup_parse})}}',
        **_list_clauses(e.name, view),
        **_frozen_hooks(ir, e),  # workflow.py's frozen-field checks this router calls
    }


def _list_clauses(model: str, view: EntityApiView) -> dict[str, str]:
    """Where a list starts: the rows not soft-deleted, narrowed by the filters sent (``clauses = ...``)."""
    if view.soft_delete:
        sent = ", *filters(params, FILTERS)" if view.filters else ""
        return {"list_target": "clauses", "list_clauses": f"[{model}.deleted_at.is_(None){sent}]"}
    if view.filters:
        return {"list_target": "clauses", "list_clauses": "filters(params, FILTERS)"}
    return {"list_target": "clauses: list[Any]", "list_clauses": "[]"}


def _frozen_hooks(ir: AppIR, e: EntityIR) -> dict:
    from generator.targets.workflows import child_hooks, has_commands  # they import this module: imported late

    if not has_commands(ir):  # no workflow.py without a transition or action
        return {"frozen_check": None, "frozen_parents": []}
    return {"frozen_check": f"frozen_{e.module}" if e.workflow and e.workflow.frozen else None,
            "frozen_parents": child_hooks(ir, e)}


def inc_target(ir: AppIR, e: EntityIR, relation: str) -> str:
    return next(r.target for r in e.relations if r.name == relation)


def serializer_views(ir: AppIR) -> list[dict]:
    """Per entity: the fields every reader gets, and those a read rule guards."""
    out = []
    for e in ir.entities:
        view = api_view(ir, e)
        guarded_attrs = {r.attr: r for r in e.field_rules if r.op == "read"}
        wires = {c.wire: c.name for c in e.columns}
        serializer = {
            "name": e.name,
            "module": e.module,
            "fields": [(wire, value) for wire, value in view.read_fields if wires[wire] not in guarded_attrs],
            "computed": [(c.wire, _rounded(c, f"row.{c.name}")) for c in e.computed if c.sql],
            # No portable SQL: computed here, from the loaded row.
            "python_computed": [{"wire": c.wire, "value": _rounded(c, f"({c.python})"), "source": c.source,
                                 "comment": " ".join(c.text.split())} for c in e.computed if not c.sql],
            "guarded": [{"wire": r.wire, "value": dict(view.read_fields)[r.wire], "python": r.python, "id": r.id,
                         "source": r.source, "comment": " ".join(r.text.split())}
                        for r in guarded_attrs.values() if r.wire in dict(view.read_fields)],
        }
        # ``record = row`` only when a computed value or a read rule's condition reads ``record``.
        serializer["binds_record"] = "record" in _serializer_names([serializer])
        out.append(serializer)
    return out


def _serializer_names(views: list[dict]) -> set[str]:
    """The names the serializers of ``views`` (``serializer_views``) read, their bodies' Python compiled."""
    sources = [value for v in views for _, value in (*v["fields"], *v["computed"])]
    sources += [c["value"] for v in views for c in v["python_computed"]]
    sources += [x for v in views for g in v["guarded"] for x in (g["value"], g["python"]) if x]
    return free_names(*sources)


_COMPUTED_PARSERS = {"boolean": "parse_bool", "integer": "parse_int", "decimal": "parse_decimal", "date": "parse_date",
                     "datetime": "parse_datetime", "string": "parse_text"}


def _computed_filters(c: ComputedIR) -> list:
    """Query parameters filtering on a computed field: a column's, over this request's SQL value."""
    return filter_params(f'computed["{c.name}"]', c.wire, c.spec_type, _COMPUTED_PARSERS[c.spec_type], c.filter_ops)


def _rounded(c: ComputedIR, value: str) -> str:
    """A computed value as it goes on the wire: decimals at their scale, rounded the declared way."""
    if c.spec_type == "decimal":
        return f'decimal_text(rounded({value}, {c.scale}, "{c.rounding}"))'
    return value


def serializer_imports(views: list[dict]) -> dict:
    """What serializers.py imports besides its models: only what the bodies of ``views`` use."""
    names = _serializer_names(views)
    return {"serializer_modules": sorted(names & {"datetime", "decimal"}),
            "serializer_helpers": sorted(names & {"_today", "_utcnow"}),
            "serializer_wire": sorted(names & {"decimal_text", "rounded"})}


# What schemas.py may import, by module: only the names its input models' fields use are imported.
_SCHEMA_IMPORTS = {"typing": {"Annotated", "Literal"}, "pydantic": {"AwareDatetime", "Field", "StringConstraints"},
                   "wire": {"Integer", "JsonValue", "Text", "decimal_type"}}


def schema_imports(views: list[EntityApiView]) -> dict:
    """What schemas.py imports: the modules and names the annotations and defaults of its fields use."""
    fields = [f for v in views for f in (*v.create_fields, *v.update_fields)]
    # A field line is ``name: annotation = Field(..., alias=...)`` only when its wire name differs.
    names = {"Field"} if any(f.wire != f.name for f in fields) else set()
    names |= free_names(*[f.annotation for f in fields], *[f.default for f in fields if f.default is not None])
    return {"schema_modules": sorted(names & {"datetime", "decimal", "uuid"}),
            "schema_typing": sorted(names & _SCHEMA_IMPORTS["typing"]),
            "schema_pydantic": sorted({"BaseModel", "ConfigDict"} | (names & _SCHEMA_IMPORTS["pydantic"])),
            "schema_wire": sorted(names & _SCHEMA_IMPORTS["wire"])}
