"""View-models for transitions, approvals, actions and named queries, and the tables they need.

Generated files:

* ``<pkg>/workflow.py``: what every transition and action shares (input parsing, state and
  guard checks, approvals, link effects, frozen fields per entity);
* ``<pkg>/idempotency.py``: the Idempotency-Key store (a table, the same transaction as the effect);
* ``<pkg>/routers/<entity>_workflow.py``: one router per entity with transitions, actions or
  named queries, registered before the CRUD routers so static paths win.

Two tables, declared once here and printed into both ``models.py`` and the initial
migration (so they agree): ``idempotency_keys`` (every app) and ``workflow_approvals``
(apps with an approval step).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.compile import free_names
from generator.ir.nodes import AppIR, ColumnIR, CommandIR, EntityIR, QueryIR
from generator.layout import call, one_tuple, py_str
from generator.targets.api import _input_type, api_view, read_filter
from generator.targets.app import _combined, _shown
from generator.targets.extensions import hook_view
from generator.targets.router_imports import QUERY_PARSERS

if TYPE_CHECKING:  # generator.targets imports this module: import it back lazily
    from generator.targets import TemplateFile

__all__ = ["EXTRA_TABLES", "extra_tables", "workflow_files", "workflow_routers"]


@dataclass(frozen=True)
class ExtraColumn:
    name: str
    sa_type: str  # unqualified SQLAlchemy type call
    py_type: str
    nullable: bool = False
    primary_key: bool = False
    index: bool = False
    unique: bool = False


@dataclass(frozen=True)
class ExtraTable:
    model: str
    table: str
    doc: str
    columns: tuple[ExtraColumn, ...]
    indexes: tuple[tuple[str, ...], ...] = ()  # composite indexes (named by the convention)


IDEMPOTENCY = ExtraTable(
    "IdempotencyKey", "idempotency_keys",
    "A POST's Idempotency-Key and the answer it got, stored in the same transaction as its effect.",
    (
        ExtraColumn("owner", "String(64)", "str", primary_key=True),  # the user's id, "" when anonymous
        ExtraColumn("key", "String(255)", "str", primary_key=True),
        ExtraColumn("method", "String(10)", "str"),
        ExtraColumn("path", "Text()", "str"),
        ExtraColumn("fingerprint", "String(64)", "str"),
        ExtraColumn("status", "Integer()", "int", nullable=True),
        ExtraColumn("body", "Text()", "str", nullable=True),
        ExtraColumn("headers", "Text()", "str", nullable=True),
        ExtraColumn("created_at", "DateTime(timezone=True)", "datetime.datetime", index=True),
    ),
)
APPROVALS = ExtraTable(
    "WorkflowApproval", "workflow_approvals",
    "Who approved which step of which transition of which record, and when (kept after the outcome).",
    (
        ExtraColumn("id", "Uuid()", "uuid.UUID", primary_key=True),
        ExtraColumn("entity", "String(63)", "str"),
        ExtraColumn("record_id", "String(64)", "str"),
        ExtraColumn("transition", "String(63)", "str"),
        ExtraColumn("step", "Integer()", "int"),
        ExtraColumn("role", "String(63)", "str"),
        ExtraColumn("approver_id", "String(64)", "str"),
        ExtraColumn("approved_at", "DateTime(timezone=True)", "datetime.datetime"),
        # Set while the approval counts; unique, so one person's approval counts once even under a race.
        ExtraColumn("pending_key", "String(255)", "str", nullable=True, unique=True),
        ExtraColumn("outcome", "String(16)", "str", nullable=True),  # counted | void, once the record moved on
        ExtraColumn("closed_at", "DateTime(timezone=True)", "datetime.datetime", nullable=True),
    ),
    indexes=(("entity", "record_id"),),
)
EXTRA_TABLES = (IDEMPOTENCY, APPROVALS)


def has_approvals(ir: AppIR) -> bool:
    return any(t.approvals is not None for e in ir.entities if e.workflow for t in e.workflow.transitions)


def has_commands(ir: AppIR) -> bool:
    """Whether the app serves a transition or an action (the endpoints that honour Idempotency-Key)."""
    return any(commands(e) for e in ir.entities)


def uses_idempotency(ir: AppIR) -> bool:
    """Whether some POST honours Idempotency-Key: a transition, an action or a CRUD create."""
    return has_commands(ir) or any("create" in e.operations for e in ir.entities)


def extra_tables(ir: AppIR) -> tuple[ExtraTable, ...]:
    if not uses_idempotency(ir):
        return ()
    return (IDEMPOTENCY, APPROVALS) if has_approvals(ir) else (IDEMPOTENCY,)


def extra_models(ir: AppIR) -> list[dict[str, Any]]:
    """What models.py prints for the extra tables."""
    out = []
    for t in extra_tables(ir):
        lines = []
        for c in t.columns:
            kwargs = ["primary_key=True"] if c.primary_key else [f"nullable={c.nullable}"]
            if c.primary_key and c.py_type == "uuid.UUID":
                kwargs.append("default=uuid.uuid4")
            if c.index:
                kwargs.append("index=True")
            if c.unique:
                kwargs.append("unique=True")
            annotation = c.py_type + (" | None" if c.nullable else "")
            lines.append(call(f"{c.name}: Mapped[{annotation}] = mapped_column", [c.sa_type, *kwargs], 4))
        args = [call("Index", [f'"ix_{t.table}_{"_".join(cols)}"', *(py_str(x) for x in cols)], 8, ",")
                for cols in t.indexes]
        out.append({"name": t.model, "table": t.table, "doc": t.doc, "columns": tuple(lines),
                    "table_args": tuple(args), "table_args_line": one_tuple("__table_args__", args, 4), "ddl": ()})
    return out


def extra_migration_tables(ir: AppIR) -> list:  # type: ignore[type-arg]
    """The extra tables as the initial migration creates them (``TableView``s)."""
    from generator.targets.migrations import _args, _f, _s, _sa, _table, convention_name

    out = []
    for t in extra_tables(ir):
        items = [f"sa.Column({_s(c.name)}, {_sa(c.sa_type)}, nullable={c.nullable and not c.primary_key})"
                 for c in t.columns]
        items.append(f"sa.PrimaryKeyConstraint({_args(c.name for c in t.columns if c.primary_key)}, "
                     f"name={_f(convention_name('pk', t.table))})")
        for c in t.columns:
            if c.unique:
                items.append(f"sa.UniqueConstraint({_s(c.name)}, name={_f(convention_name('uq', t.table, (c.name,)))})")
        indexes = [(convention_name("ix", t.table, (c.name,)), (c.name,)) for c in t.columns if c.index]
        indexes += [(convention_name("ix", t.table, cols), cols) for cols in t.indexes]
        out.append(_table(t.table, items, indexes))
    return out


# --- routers -----------------------------------------------------------------------------------------------


def served(e: EntityIR) -> bool:
    return bool(e.actions or e.queries or (e.workflow and e.workflow.transitions))


def workflow_routers(ir: AppIR) -> list[str]:
    """Router modules to register before the CRUD routers (a static path must win over ``/{id}``)."""
    return [f"{e.module}_workflow" for e in ir.entities if served(e)]


def commands(e: EntityIR) -> tuple[CommandIR, ...]:
    return (e.workflow.transitions if e.workflow else ()) + e.actions


def _one_line(text: str) -> str:
    return " ".join(text.split())


def input_model_name(e: EntityIR, c: CommandIR) -> str:
    return "".join(part.title() for part in f"{e.module}_{c.name}".split("_")) + "Input"


def _input_field(c: ColumnIR) -> dict[str, str]:
    annotation = _input_type(c) + (" | None" if c.nullable else "")
    default = "None, " if c.nullable else ""
    return {"name": c.name, "annotation": annotation, "default": default, "wire": c.wire}


def _command_view(ir: AppIR, e: EntityIR, c: CommandIR) -> dict[str, Any]:
    sets = [{"attr": x.target, "value": x.value, "sql": x.value_is_sql, "comment": _one_line(x.text),
             "source": x.source} for x in c.effects if x.kind == "set"]
    links = [{"kind": x.kind, "table": x.link_table, "this": x.this_column, "other": x.other_column,
              "value": x.value, "comment": _one_line(x.text), "source": x.source}
             for x in c.effects if x.kind != "set"]
    approvals = None
    if c.approvals is not None:
        a = c.approvals
        approvals = {
            "steps": [{"role": repr(s.role), "when": s.when.sql if s.when else "None",
                       "comment": f"step {s.index + 1}: {s.role}" + (f" when {_one_line(s.when.text)}" if s.when else ""),
                       "source": s.when.source if s.when else a.source} for s in a.steps],
            "exclude": None if a.exclude is None else {
                "id": repr(a.exclude.id), "english": repr(a.exclude.english), "sql": a.exclude.sql,
                "comment": f"exclude: {_one_line(a.exclude.text)}", "source": a.exclude.source},
            "distinct": a.distinct,
        }
    guard = None
    if c.guard is not None:
        guard = {"id": repr(c.guard.id), "english": repr(c.guard.english), "sql": c.guard.sql,
                 "comment": _one_line(c.guard.text), "source": c.guard.source,
                 "status": "VALIDATION_STATUS" if c.guard.uses_input else "409"}
    by_name = {x.name: x for x in ir.entities}
    refs = [{"name": f.name, "wire": f.wire, "target": by_name[f.foreign_key.target_entity].name}
            for f in c.input if f.spec_type == "ref"]
    ordered_rules = sorted(c.rules, key=lambda r: r.effect != "deny")  # denies first: they name themselves
    reads_record = any("record" in free_names(x.value) for x in c.effects if not x.value_is_sql)
    # The handler binds the parsed body only when something reads it (it is parsed, so checked, either way).
    reads_input = bool(c.rules or refs or c.hook) or any(
        "input" in free_names(source) for source in [x.value for x in c.effects] + [x.sql for x in (c.guard,) if x])
    return {
        "kind": c.kind,
        "name": c.name,
        "func": c.operation_id,
        "method": c.method.lower(),
        "path": c.path,
        "status": 200,
        "summary": _one_line(c.description) or (f"The `{c.name}` transition: {', '.join(c.sources)} -> {c.target}."
                                                 if c.kind == "transition" else f"The `{c.name}` action."),
        "source": c.source,
        "input_model": input_model_name(e, c) if c.input else None,
        "input_fields": [_input_field(f) for f in c.input],
        "rules": [_shown(r) for r in ordered_rules],
        "sources": "(" + "".join(f"{s!r}, " for s in c.sources) + ")",
        "target": repr(c.target) if c.target else None,
        "guard": guard,
        "sets": sets,
        "sql_sets": any(s["sql"] for s in sets),
        "links": links,
        "approvals": approvals,
        "refs": refs,
        "frozen": bool(c.frozen) and c.kind == "action",
        # What the effects change, for the frozen-field check: a set's new value (a SQL one always counts as a
        # change), a link's relation name.
        "frozen_changes": "{" + ", ".join(
            [f'"{x.target}": {"object()" if x.value_is_sql else x.value}' for x in c.effects if x.kind == "set"]
            + [f'"{x.target}": True' for x in c.effects if x.kind != "set"]) + "}",
        "invariants": bool(sets) and bool(e.invariants),
        # An effect value that reads the record (`count: record.count + 1`) reads it as it was before any
        # effect: with several, every value is computed before the first is applied.
        "reads_record": reads_record,
        "staged": reads_record and len(sets) > 1,
        "reads_input": reads_input,
        # Whether the record's version moves on through ``touch`` (no field changes: links only, or nothing).
        "touches": not sets and (bool(links) or c.kind != "transition"),
        "hook": hook_view(c.hook),  # a user function, after the effects (generator/targets/extensions.py)
    }


def _query_view(ir: AppIR, e: EntityIR, q: QueryIR) -> dict[str, Any]:
    parse = {"uuid.UUID": "parse_uuid", "int": "parse_int", "datetime.datetime": "parse_datetime",
             "datetime.date": "parse_date", "decimal.Decimal": "parse_decimal", "bool": "parse_bool"}
    keys = []
    for o in q.order:
        column = next(col for col in e.columns if col.name == o.column)
        keys.append({"column": f"{e.name}.{o.column}", "descending": o.descending, "nullable": column.nullable,
                     "parse": parse.get(column.py_type, "str"), "wire": column.wire})
    return {
        "name": q.name,
        "func": q.operation_id,
        "path": q.path,
        "summary": _one_line(q.description) or f"The `{q.name}` query.",
        "source": q.source,
        "where": {"sql": q.where.sql, "comment": _one_line(q.where.text), "source": q.where.source},
        "sort_keys": keys,
        "signature": ",".join(("-" if k["descending"] else "") + k["wire"] for k in keys),
    }


def router_context(ir: AppIR, e: EntityIR, header: str) -> dict[str, Any]:
    view = api_view(ir, e)
    cmds = [_command_view(ir, e, c) for c in commands(e)]
    queries = [_query_view(ir, e, q) for q in e.queries]
    list_rules = next((r for r in e.rules if r.op == "list"), None)
    list_access = dict(e.access).get("list", "denied")
    invariants = [{"name": repr(i.name), "message": repr(i.message), "python": i.python, "sql": i.sql,
                   "comment": _one_line(i.text), "source": i.source} for i in e.invariants]
    one_open, one_close = (f'{{"{view.envelope_one}": ', "}") if view.envelope else ("", "")
    visible = read_filter(e)  # None: everyone may read; "nobody"; or readable_<module>
    lookup = f"{e.name}.{e.lookup} == parse_lookup({e.lookup}, {view.lookup_parse})"
    # What a transition or action loads (and locks), and what the approvals list reads (unlocked): the
    # record by its key, unless soft-deleted or hidden from the user by the read rule (404 either way).
    load_where = [lookup] + ([f"{e.name}.deleted_at.is_(None)"] if e.soft_delete else []) \
        + ([f"{visible}(user)"] if visible else [])
    approvals_where = load_where
    has_computed = any(c.sql for c in getattr(e, "computed", ()))
    # A serializer with per-field read rules is told who reads (generator/targets/app.py decides the same).
    serializer_user = ", user" if any(r.op == "read" for r in getattr(e, "field_rules", ())) else ""
    listed = bool(queries) and list_access != "denied"  # the queries answer rows (else a 403 each)
    list_combined = _combined(list_rules) if listed and list_rules is not None and list_rules.rules else None
    for q in queries:
        # Without sign-in the handler binds ``user = None`` itself, only when something reads it.
        q["reads_user"] = listed and bool(list_combined or has_computed or serializer_user
                                          or "user" in free_names(q["where"]["sql"]))
    has_auth = ir.auth is not None
    ctx = {
        "header": header,
        "package": ir.package,
        "e": view,
        "entity": e,
        "source": e.source,
        "has_auth": has_auth,
        "auth_scheme": ir.auth_scheme,
        "commands": cmds,
        "queries": queries,
        "listed": listed,
        "state_field": e.workflow.field if e.workflow else None,
        "has_frozen": bool(e.workflow and e.workflow.frozen),
        "has_approvals": any(c["approvals"] for c in cmds),
        "invariants": invariants,
        # `_check_invariants` binds ``record`` only for a Python check that reads it.
        "invariants_read_record": any("record" in free_names(i.python) for i in e.invariants if i.python),
        "visible": visible,
        "approvals_user": not has_auth and bool(visible),  # the approvals list binds ``user = None`` to read it
        "load_where": "[" + ", ".join(load_where) + "]",
        "approvals_where": "[" + ", ".join(approvals_where) + "]",
        "list_combined": list_combined,
        "list_rules": [_shown(r) for r in list_rules.rules] if list_rules is not None else [],
        "lookup": e.lookup,
        "lookup_parse": view.lookup_parse,
        "one_open": one_open,
        "one_close": one_close,
        "list_key": view.envelope_many if view.envelope else "items",
        "next_key": "nextCursor" if ir.wire_names == "camelCase" else "next_cursor",
        "count_key": view.envelope_count if view.envelope else "total",
        "pagination": view.pagination,
        "page_size_default": ir.page_size_default,
        "page_size_max": ir.page_size_max,
        "serializer_user": serializer_user,
        # Computed fields are selected with the row (routers/<entity>.py's helpers): reloaded before answering.
        "has_computed": has_computed,
        "query_options": "_with_computed(_computed(user))" if has_computed else "[]",
        # `_check_invariants` is printed (and called after a `set`): some effect sets a field.
        "checks_invariants": bool(invariants) and any(c["sets"] for c in cmds),
        "has_hooks": any(c["hook"] for c in cmds),
    }
    return {**ctx, **_router_imports(ir, e, ctx)}


# Where the names an input model's annotations use come from (the rest: the app's wire module).
_TYPING = frozenset({"Annotated", "Literal"})
_PYDANTIC = frozenset({"AwareDatetime", "Field", "StringConstraints"})
_MODULES = frozenset({"datetime", "decimal", "uuid"})
_BUILTINS = frozenset(dir(builtins))


def _router_imports(ir: AppIR, e: EntityIR, ctx: dict[str, Any]) -> dict[str, Any]:
    """What a workflow router imports: exactly the names its code uses.

    The names the compiled sources need (rules, guards, effects, invariants, approval steps, a
    query's where and the list rule) are read from the sources themselves (``free_names``);
    the names the template's own code needs follow from the conditions the template prints
    it under. pyflakes checks the result in the tests (tests/test_generated_lint.py).
    """
    cmds, queries, listed = ctx["commands"], ctx["queries"], ctx["listed"]
    sources: list[str] = []
    for c in commands(e):
        sources += [r.sql for r in c.rules] + [x.sql for x in (c.guard,) if x] + [x.value for x in c.effects]
        if c.approvals:
            sources += [s.when.sql for s in c.approvals.steps if s.when]
            sources += [c.approvals.exclude.sql] if c.approvals.exclude else []
    if ctx["checks_invariants"]:
        sources += [i.python for i in e.invariants if i.python] + [i.sql for i in e.invariants if i.sql]
    if listed:
        sources += [q["where"]["sql"] for q in queries] + [k["column"] for q in queries for k in q["sort_keys"]]
        sources += [ctx["list_combined"]] if ctx["list_combined"] else []
    if cmds:
        sources += ctx["load_where"], ctx["approvals_where"]
    names = free_names(*sources)
    annotations = free_names(*[f["annotation"] for c in cmds for f in c["input_fields"]])

    tables = {x.name for x in ir.entities} | {t.name for t in ir.link_tables}
    models = (names & tables) | {r["target"] for c in cmds for r in c["refs"]} \
        | {x["table"] for c in cmds for x in c["links"]}
    models |= {e.name} if cmds or listed else set()

    typing = annotations & _TYPING
    if cmds or listed or ctx["has_auth"]:
        typing.add("Any")  # `_answer`; `_KEYS_*` and `clauses`; the `user` parameter
    inputs = any(c["input_model"] for c in cmds)
    pydantic = (annotations & _PYDANTIC) | ({"BaseModel", "ConfigDict", "Field"} if inputs else set())

    crud = {"check_if_match", "etag", "load"} if cmds else set()
    crud |= {"decide"} if any(c["rules"] for c in cmds) else set()
    crud |= {"broken_invariant"} if ctx["checks_invariants"] else set()
    if listed:
        crud.add("keyset_page" if ctx["pagination"] == "cursor" else "offset_page")

    # A guard that reads the input refuses with the validation status; a query nobody may list is a 403.
    problems = {"VALIDATION_STATUS"} if any(c["guard"] and c["guard"]["status"] == "VALIDATION_STATUS"
                                            for c in cmds) else set()
    problems |= {"Problem"} if queries and not listed else set()

    query = names & QUERY_PARSERS
    query |= {k["parse"] for q in queries for k in q["sort_keys"]} - _BUILTINS if listed else set()
    query |= {"parse_lookup", ctx["lookup_parse"]} - _BUILTINS if cmds else set()
    query |= {"parse_limit", "reject_unknown"} if listed else set()
    query |= {"parse_offset"} if listed and ctx["pagination"] != "cursor" else set()
    query |= {"reject_unknown"} if ctx["has_approvals"] else set()

    computed = {"_reload"} if ctx["has_computed"] and cmds else set()
    computed |= {"_computed", "_with_computed"} if ctx["has_computed"] and listed else set()

    approvals = ctx["has_approvals"]
    workflow = {"parse_input", "writing"} if cmds else set()
    workflow |= {"require_user"} if cmds and ctx["has_auth"] else set()
    workflow |= {"approvals_of", "approve", "close_approvals"} if approvals else set()
    workflow |= {"check_state"} if any(c["kind"] == "transition" for c in cmds) else set()
    workflow |= {"check_guard"} if any(c["guard"] for c in cmds) else set()
    workflow |= {"check_reference"} if any(c["refs"] for c in cmds) else set()
    workflow |= {f"{x['kind']}_link" for c in cmds for x in c["links"]}
    workflow |= {"touch"} if any(c["touches"] for c in cmds) else set()
    workflow |= {"holds"} if ctx["checks_invariants"] and any(i.sql for i in e.invariants) else set()
    workflow |= {f"frozen_{e.module}"} if ctx["has_frozen"] and any(c["frozen"] for c in cmds) else set()
    return {
        "modules": sorted((names | annotations) & _MODULES),
        "typing_imports": sorted(typing),
        "uses_sa": "sa" in names,
        "pydantic_imports": sorted(pydantic),
        "crud_imports": sorted(crud),
        "db_imports": sorted(({"read_session"} if queries or approvals else set())
                             | ({"write_session"} if cmds else set())),
        "model_imports": sorted(models) + sorted(names & {"_today", "_utcnow"}),
        "problem_imports": sorted(problems),
        "query_imports": sorted(query),
        "computed_imports": sorted(computed),
        "serializes": bool(cmds) or listed,  # `<entity>_to_wire` and `json_response`
        "visibility_import": ctx["visible"] if ctx["visible"] and cmds else None,
        # Names the input annotations use that the wire module defines (Text, Integer, decimal_type, ...).
        "wire_imports": sorted(annotations - _TYPING - _PYDANTIC - _MODULES - _BUILTINS),
        "workflow_imports": sorted(workflow),
    }


def frozen_context(ir: AppIR) -> list[dict[str, Any]]:
    """Per entity with frozen rules: the rules, for ``workflow.py``'s ``frozen_<entity>`` checks."""
    out = []
    for e in ir.entities:
        if not e.workflow or not e.workflow.frozen:
            continue
        wires = {c.name: c.wire for c in e.columns}
        rules = []
        for i, fz in enumerate(e.workflow.frozen):
            rules.append({"id": repr(f"{e.name}.frozen.{i + 1}"), "states": "(" + "".join(f"{s!r}, " for s in fz.states) + ")",
                          "columns": [(c, wires[c]) for c in fz.columns],
                          "relations": list(fz.relations),
                          "children": fz.children, "return_to": repr(fz.return_to) if fz.return_to else None,
                          "comment": fz.text, "source": fz.source})
        out.append({"entity": e.name, "module": e.module, "field": e.workflow.field, "rules": rules,
                    "approvals": any(t.approvals for t in e.workflow.transitions),
                    # Whether ``frozen_<entity>`` checks the record itself (a rule freezing only has_many
                    # fields is checked where the child changes, in ``frozen_<child>_in_<parent>``).
                    "checks_record": any(r["columns"] or r["relations"] for r in rules)})
    return out


def frozen_children(ir: AppIR) -> list[dict[str, Any]]:
    """Child entities whose rows are a frozen has_many of a parent: (child, key attribute, parent, rules)."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for parent in frozen_context(ir):
        for rule in parent["rules"]:
            for child, fk, field in rule["children"]:
                entry = out.setdefault((child, fk, parent["entity"]), {"relation": field,
                    "child": child, "child_module": next(x.module for x in ir.entities if x.name == child),
                    "fk": fk, "parent": parent["entity"], "field": parent["field"], "rules": [],
                    "approvals": parent["approvals"]})
                entry["rules"].append(rule)
    return list(out.values())


def child_hooks(ir: AppIR, e: EntityIR) -> list[str]:
    """The ``frozen_parent_<...>`` checks the CRUD router of ``e`` calls before a row changes."""
    return [f"frozen_{x['child_module']}_in_{_snake(x['parent'])}" for x in frozen_children(ir) if x["child"] == e.name]


def _snake(name: str) -> str:
    from generator.naming import snake

    return snake(name)


def workflow_files(ir: AppIR, header: str) -> list[TemplateFile]:
    from generator.targets import TemplateFile  # lazily: generator.targets imports this module

    base = {"header": header, "package": ir.package, "title": ir.title}
    children = frozen_children(ir)
    for x in children:
        x["func"] = f"frozen_{x['child_module']}_in_{_snake(x['parent'])}"
    models = sorted({x["entity"] for x in frozen_context(ir)} | {x["child"] for x in children}
                    | {x["parent"] for x in children})
    idempotency = [TemplateFile(f"{ir.package}/idempotency.py", "app/package/idempotency.py.j2", base)]
    if not has_commands(ir):
        files = idempotency if uses_idempotency(ir) else []  # CRUD creates honour Idempotency-Key too
    else:
        files = [
            TemplateFile(f"{ir.package}/workflow.py", "app/package/workflow.py.j2",
                         {**base, "has_approvals": has_approvals(ir), "frozen": frozen_context(ir),
                          "children": children, "models": models, "auth_scheme": ir.auth_scheme}),
            *idempotency,
        ]
    # Named queries are served without a transition or action in the app (app.py registers every router).
    for e in ir.entities:
        if served(e):
            files.append(TemplateFile(f"{ir.package}/routers/{e.module}_workflow.py",
                                      "app/package/routers/workflow.py.j2", router_context(ir, e, header)))
    return files
