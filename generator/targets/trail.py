"""View-models for the audit trail and notifications of the generated app.

Two tables support them, declared once here and printed both into ``models.py``
(``support_models``) and into the initial migration (``support_tables``), so they agree:

* ``audit_log`` (model ``AuditLogEntry``): one append-only row per change to a record of an
  entity with ``audit: true``; only when some entity is audited. On PostgreSQL and SQLite a
  trigger refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) on it.
* ``notification_outbox`` (model ``NotificationOutbox``): one row per notification and
  recipient, written in the transaction of the change; read by the recipient at
  ``/me/notifications`` and delivered by the dispatcher; only when some entity declares
  notifications (which needs ``auth:``).

Generated modules: ``audit.py`` (always: the request's actor and id, the session that records
changes), ``notifications.py`` (with ``webhooks.py``, its webhook sender) and ``routers/trail.py``
(history and inbox endpoints).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.compile import free_names
from generator.ir.nodes import AppIR, EntityIR
from generator.layout import call, one_tuple, py_str
from generator.naming import camel

if TYPE_CHECKING:  # generator.targets imports this module: import it back lazily
    from generator.targets import TemplateFile

__all__ = ["AUDIT_MODEL", "AUDIT_TABLE", "OUTBOX_MODEL", "OUTBOX_TABLE", "SupportColumn", "SupportTable",
           "has_notifications", "support_models", "support_tables", "trail_files"]

AUDIT_TABLE, AUDIT_MODEL = "audit_log", "AuditLogEntry"
OUTBOX_TABLE, OUTBOX_MODEL = "notification_outbox", "NotificationOutbox"
_BIGINT = 'BigInteger().with_variant(Integer(), "sqlite")'
_TS = "DateTime(timezone=True)"
_NOT_RECORDED = frozenset({"id", "created", "updated", "deleted", "version"})  # server bookkeeping


@dataclass(frozen=True)
class SupportColumn:
    name: str
    sa_type: str  # unqualified SQLAlchemy type call
    py_type: str
    nullable: bool = False
    primary_key: bool = False
    index: bool = False
    unique: bool = False
    default: str | None = None  # Python default (models only)


@dataclass(frozen=True)
class SupportTable:
    model: str
    table: str
    doc: str
    columns: tuple[SupportColumn, ...]
    indexes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, columns), besides index=True columns
    ddl: tuple[tuple[str, str], ...] = ()  # (dialect, statement) run after CREATE TABLE


# PostgreSQL: a trigger function that refuses any change to an audit row, whoever connects.
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege'; END $$"
)
_AUDIT_DDL = (
    ("postgresql", _PG_FUNCTION),
    ("postgresql", "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"),
    ("postgresql", "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"),
    ("sqlite", "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"),
    ("sqlite", "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"),
)


def _user_id(ir: AppIR) -> tuple[str, str]:
    assert ir.auth is not None
    user = next(e for e in ir.entities if e.name == ir.auth.user_entity)
    column = next(c for c in user.columns if c.name == "id")
    return column.sa_type, column.py_type


def audited(ir: AppIR) -> list[EntityIR]:
    return [e for e in ir.entities if e.audit]


def has_notifications(ir: AppIR) -> bool:
    return ir.auth is not None and any(e.notifications for e in ir.entities)


def support_tables(ir: AppIR) -> tuple[SupportTable, ...]:
    tables = []
    if audited(ir):
        tables.append(SupportTable(
            AUDIT_MODEL, AUDIT_TABLE,
            "One change to a record of an audited entity; append-only (see audit.py).",
            (
                SupportColumn("id", _BIGINT, "int", primary_key=True),
                SupportColumn("at", _TS, "datetime.datetime"),
                SupportColumn("actor_id", "String(64)", "str", nullable=True, index=True),
                SupportColumn("entity", "String(100)", "str"),
                SupportColumn("record_id", "String(64)", "str"),
                SupportColumn("operation", "String(20)", "str"),
                SupportColumn("name", "String(100)", "str", nullable=True),
                SupportColumn("changes", "JSON()", "Any"),
                SupportColumn("rule", "String(200)", "str", nullable=True),
                SupportColumn("request_id", "String(128)", "str", nullable=True),
            ),
            indexes=(("ix_audit_log_entity_record_id_id", ("entity", "record_id", "id")),),
            ddl=_AUDIT_DDL,
        ))
    if has_notifications(ir):
        sa_type, py_type = _user_id(ir)
        tables.append(SupportTable(
            OUTBOX_MODEL, OUTBOX_TABLE,
            "One notification for one recipient, written with the change (see notifications.py).",
            (
                SupportColumn("id", _BIGINT, "int", primary_key=True),
                SupportColumn("event_id", "Uuid()", "uuid.UUID", unique=True, default="uuid.uuid4"),
                SupportColumn("created_at", _TS, "datetime.datetime", default="_utcnow"),
                SupportColumn("recipient_id", sa_type, py_type),
                SupportColumn("notification", "String(100)", "str"),
                SupportColumn("entity", "String(100)", "str"),
                SupportColumn("record_id", "String(64)", "str"),
                SupportColumn("message", "Text()", "str"),
                SupportColumn("read_at", _TS, "datetime.datetime", nullable=True),
                SupportColumn("delivered_at", _TS, "datetime.datetime", nullable=True),
                SupportColumn("attempts", "Integer()", "int", default="0"),
                SupportColumn("available_at", _TS, "datetime.datetime", index=True, default="_utcnow"),
                SupportColumn("last_error", "Text()", "str", nullable=True),
            ),
            indexes=(("ix_notification_outbox_recipient_id_id", ("recipient_id", "id")),),
        ))
    return tuple(tables)


def support_models(ir: AppIR) -> list[dict[str, Any]]:
    """What models.py prints for each support table: class lines, table args, DDL listeners."""
    models = []
    for t in support_tables(ir):
        lines = []
        for c in t.columns:
            kwargs = ["primary_key=True", "autoincrement=True"] if c.primary_key else [f"nullable={c.nullable}"]
            if c.unique:
                kwargs.append("unique=True")
            if c.index:
                kwargs.append("index=True")
            if c.default is not None:
                kwargs.append(f"default={c.default}")
            annotation = c.py_type + (" | None" if c.nullable else "")
            lines.append(call(f"{c.name}: Mapped[{annotation}] = mapped_column", [c.sa_type, *kwargs], 4))
        args = tuple(call("Index", [py_str(name), *(py_str(x) for x in cols)], 8, ",") for name, cols in t.indexes)
        ddl = tuple(call("event.listen", [f"{t.model}.__table__", '"after_create"',
                                          call("DDL", [py_str(sql)], 4, f".execute_if(dialect={py_str(d)})")], 0)
                    for d, sql in t.ddl)
        models.append({"name": t.model, "table": t.table, "doc": t.doc, "columns": tuple(lines),
                       "table_args": args, "table_args_line": one_tuple("__table_args__", list(args), 4), "ddl": ddl})
    return models


# --- generated modules ------------------------------------------------------------------------------


def _recorded(e: EntityIR) -> list[dict[str, Any]]:
    return [{"attr": c.name, "wire": c.wire, "redacted": c.name in e.audit_redacted}
            for c in e.columns if c.server_value not in _NOT_RECORDED]


def _notification_view(e: EntityIR, n, index: int) -> dict[str, Any]:
    values = [code for kind, code in n.parts if kind == "sql"]
    parts, k = [], 0
    for kind, piece in n.parts:
        if kind == "text":
            parts.append({"text": repr(piece)})
        else:
            parts.append({"value": k})
            k += 1
    return {
        "name": n.name, "name_literal": repr(n.name), "event": n.event, "field": n.field,
        "transitions": list(n.transitions), "recipients": n.recipients, "values": values, "parts": parts,
        "fn": f"_{e.module}_{index}", "source": n.source, "to_text": n.to_text,
        "message_comment": " ".join(n.message.split()),
    }


def _names(ir: AppIR, sources: list[str]) -> dict[str, list[str]]:
    names = free_names(*sources)
    tables = {e.name for e in ir.entities} | {t.name for t in ir.link_tables}
    # notifications.py defines its own ``_utcnow`` (the models module's twin): only ``_today`` is imported.
    return {"models": sorted(names & tables), "helpers": sorted(names & {"_today"}),
            "modules": sorted(names & {"datetime", "decimal"}), "uses_sa": "sa" in names}


def trail_context(ir: AppIR) -> dict[str, Any]:
    from generator.targets import header  # lazily: generator.targets imports this module
    from generator.targets.api import api_view, read_filter

    audited_entities = [{"name": e.name, "module": e.module, "fields": _recorded(e)} for e in audited(ir)]
    notifying = []
    if has_notifications(ir):
        for e in ir.entities:
            if e.notifications:
                notifying.append({"name": e.name, "module": e.module,
                                  "notifications": [_notification_view(e, n, i)
                                                    for i, n in enumerate(e.notifications)]})
    sources = [n["recipients"] for x in notifying for n in x["notifications"]]
    sources += [v for x in notifying for n in x["notifications"] for v in n["values"]]
    names = _names(ir, sources)
    history = []
    for e in audited(ir):
        if "read" not in e.operations:
            continue
        view = api_view(ir, e)
        access = dict(e.access)["read"]
        has_rule = any(r.op == "read" and r.rules for r in e.rules)
        history.append({
            "name": e.name, "module": e.module, "path": f"{e.collection_path}/{{{e.lookup}}}/history",
            "lookup": e.lookup, "lookup_parse": view.lookup_parse, "access": access,
            "visible": read_filter(e) if access == "authenticated" and has_rule else None,
            "soft_delete": e.soft_delete, "operation_id": f"history_{e.module}",
            "hidden": sorted(c.wire for c in e.columns if c.name in e.audit_hidden),
        })
    user_model = ir.auth.user_entity if ir.auth else None
    # What notifications.py imports from models.py: the notifying models, the recipients' model and the
    # models its compiled SQL names (audit.py imports the audited ones itself).
    models = sorted(set(names["models"]) | {x["name"] for x in notifying} | ({user_model} if notifying else set()))
    return {
        "header": header(ir),
        "package": ir.package,
        "title": ir.title,
        "prefix": ir.prefix,
        "audited": audited_entities,
        "notifying": notifying,
        "has_audit": bool(audited_entities),
        "has_notifications": bool(notifying),
        "has_auth": ir.auth is not None,
        "user_model": user_model,
        "models": models,
        "helpers": names["helpers"],
        "modules": names["modules"],
        "uses_sa": names["uses_sa"],
        "audit_model": AUDIT_MODEL,
        "outbox_model": OUTBOX_MODEL,
        "history": history,
        "visibility_imports": sorted({h["visible"] for h in history if h["visible"]}),
        "router_imports": _router_imports(history, ir.auth is not None, bool(notifying)),
        "inbox_path": f"{ir.prefix}/me/notifications",
        "keys": {k: (camel(k) if ir.wire_names == "camelCase" else k)
                 for k in ("actor_id", "record_id", "request_id", "created_at", "read_at", "next_cursor")},
        "page_size_default": ir.page_size_default,
        "page_size_max": ir.page_size_max,
    }


def _router_imports(history: list[dict[str, Any]], has_auth: bool, inbox: bool) -> dict[str, list[str]]:
    """What routers/trail.py imports, by module: what its history endpoints (those nobody may call
    answer 403 before reading anything) and its notification inbox use."""
    served = [h for h in history if h["access"] != "denied"]
    return {
        "sqlalchemy": ["select", *(["update"] if inbox else [])],
        "auth": [*(["optional_user"] if has_auth and history else []), *(["required_user"] if inbox else [])],
        "db": ["read_session", *(["write_session"] if inbox else [])],
        "models": [*([AUDIT_MODEL] if history else []), *([OUTBOX_MODEL] if inbox else []),
                   *(h["name"] for h in served)],
        "problems": ["Problem", *(["invalid"] if inbox else [])],
        "query": sorted({"parse_int", "parse_limit", "reject_unknown"} | ({"parse_bool"} if inbox else set())
                        | ({"parse_lookup"} | {h["lookup_parse"] for h in served} if served else set())),
    }


def has_trail_router(ir: AppIR) -> bool:
    ctx = trail_context(ir)
    return bool(ctx["history"] or ctx["has_notifications"])


def trail_files(ir: AppIR) -> list[TemplateFile]:
    from generator.targets import TemplateFile  # lazily: generator.targets imports this module

    ctx = trail_context(ir)
    files = [TemplateFile(f"{ir.package}/audit.py", "app/package/audit.py.j2", ctx)]
    if ctx["has_notifications"]:
        files.append(TemplateFile(f"{ir.package}/notifications.py", "app/package/notifications.py.j2", ctx))
        files.append(TemplateFile(f"{ir.package}/webhooks.py", "app/package/webhooks.py.j2", ctx))
    if ctx["history"] or ctx["has_notifications"]:
        files.append(TemplateFile(f"{ir.package}/routers/trail.py", "app/package/routers/trail.py.j2", ctx))
    return files
