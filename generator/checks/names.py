"""Names become Python identifiers, SQL identifiers, URL segments and JSON keys.

Catch every name that would break one of those (or shadow something the generated
code relies on) before any code exists: non-identifiers and look-alike Unicode,
Python keywords, SQL reserved words, PostgreSQL's 63-byte limit, names that only
differ by case (SQLite and macOS file systems ignore case), reserved names, and
one name used twice where both would end up in the same namespace.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from typing import Iterator

from generator.checks.context import CheckContext
from generator.loader.sourcemap import join_pointer
from generator.model.build import SYNTHESIZED_NAMES
from generator.naming import table_name, wire_name

ENTITY_NAME = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
MEMBER_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")

# PostgreSQL's reserved key words (SQL:2016 and PostgreSQL columns marked "reserved"),
# plus SQLite keywords that need quoting as a column name.
SQL_RESERVED = frozenset("""
all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate
collation column concurrently constraint create cross current_catalog current_date current_role
current_schema current_time current_timestamp current_user default deferrable desc distinct do else end
except false fetch for foreign freeze from full grant group having ilike in initially inner intersect into
is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on
only or order outer overlaps placing primary references returning right select session_user similar some
symmetric table tablesample then to trailing true union unique user using variadic verbose when where
window with autoincrement index
""".split())

# Attribute names the generated classes inherit from SQLAlchemy's declarative base or Pydantic's BaseModel.
RESERVED_FIELD_NAMES = frozenset("""
metadata registry query self cls schema json dict copy construct validate fields parse_obj parse_raw
parse_file from_orm update_forward_refs schema_json
""".split()) | frozenset(SYNTHESIZED_NAMES)

# Class names the generated modules import or define themselves.
RESERVED_ENTITY_NAMES = frozenset("""
Base BaseModel Field Session Settings Problem Page Query Request Response Decimal Enum Any Optional
List Dict Mapped Column Depends HTTPException APIRouter FastAPI Json Audit AuditEntry Approval
Notification IdempotencyKey Outbox AuthLoginFailure AuditLogEntry NotificationOutbox WorkflowApproval
""".split())

# Tables the generated app creates for itself: sign-in throttling, the audit trail, notifications,
# idempotency keys and workflow approvals.
RESERVED_TABLE_NAMES = frozenset("""
auth_login_failures audit_log notification_outbox idempotency_keys workflow_approvals alembic_version
""".split())

_BUILTIN_CLASSES = frozenset(n for n in dir(builtins) if n[:1].isupper())


def check_names(ctx: CheckContext) -> None:
    spec = ctx.spec
    _check_identifier(ctx, spec.app.name, "/app/name", MEMBER_NAME, "app name", "snake_case, e.g. `task_manager`",
                      at_key=False)
    for entity in spec.entities:
        _check_identifier(ctx, entity.name, entity.pointer, ENTITY_NAME, "entity name",
                          "PascalCase, singular, e.g. `ExpenseReport`")
        if entity.name in RESERVED_ENTITY_NAMES or entity.name in _BUILTIN_CLASSES:
            code = "K302" if entity.name in _BUILTIN_CLASSES else "K306"
            ctx.report(code, f"entity name `{entity.name}` is reserved: the generated code uses it", entity.pointer,
                       at_key=True, hint=f"rename it, e.g. `{entity.name}Item` or a more specific name")
        for member, kind, pointer in _members(entity):
            _check_identifier(ctx, member, pointer, MEMBER_NAME, kind, "snake_case, e.g. `due_date`")
        for f in entity.fields:
            if f.synthesized:
                continue
            if f.name in RESERVED_FIELD_NAMES or f.name.startswith("model_"):
                hint = ("Keel adds this field itself" if f.name in SYNTHESIZED_NAMES
                        else "rename it; the generated classes inherit an attribute with this name")
                ctx.report("K306", f"field name `{f.name}` is reserved", f.pointer, at_key=True, hint=hint)
        _check_sql_names(ctx, entity)
        _check_member_collisions(ctx, entity)
    _check_entity_collisions(ctx)
    if spec.auth is not None:
        for role in spec.auth.roles:
            _check_identifier(ctx, role.name, role.pointer, MEMBER_NAME, "role name", "snake_case, e.g. `finance`",
                              at_key=False)


def _members(entity) -> Iterator[tuple[str, str, str]]:
    for f in entity.fields:
        if not f.synthesized:
            yield f.name, "field name", f.pointer
    for c in entity.computed:
        yield c.name, "computed field name", c.pointer
    for a in entity.actions:
        yield a.name, "action name", a.pointer
        for f in a.input:
            yield f.name, "input field name", f.pointer
    for q in entity.queries:
        yield q.name, "query name", q.pointer
    for i in entity.invariants:
        yield i.name, "invariant name", i.pointer
    for n in entity.notifications:
        yield n.name, "notification name", n.pointer
    if entity.workflow is not None:
        wf = entity.workflow
        yield wf.field, "workflow field name", join_pointer(wf.pointer, "field")
        for s in wf.states:
            yield s.name, "state name", s.pointer
        for t in wf.transitions:
            yield t.name, "transition name", t.pointer
            for f in t.input:
                yield f.name, "input field name", f.pointer


def _check_identifier(ctx: CheckContext, name: str, pointer: str, pattern: re.Pattern, kind: str, form: str,
                      at_key: bool = True) -> bool:
    if pattern.match(name) and keyword.iskeyword(name):
        ctx.report("K302", f"{kind} `{name}` is a Python keyword", pointer, at_key=at_key,
                   hint=f"rename it, e.g. `{name}_`" if kind != "entity name" else "rename it")
        return False
    if pattern.match(name):
        return True
    odd = next((ch for ch in name if not (ch.isascii() and (ch.isalnum() or ch == "_"))), None)
    if odd is not None and not odd.isascii():
        label = unicodedata.name(odd, "unnamed character")
        hint = f"`{odd}` is U+{ord(odd):04X} {label}; names must be plain ASCII ({form})"
    elif odd is not None:
        hint = f"`{odd}` is not allowed in a name; use {form}"
    else:
        hint = f"use {form}"
    ctx.report("K301", f"{kind} `{_printable(name)}` is not a valid identifier", pointer, at_key=at_key, hint=hint)
    return False


def _printable(name: str) -> str:
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in name)


def _check_sql_names(ctx: CheckContext, entity) -> None:
    table = table_name(entity.name, entity.plural, entity.table)
    table_ptr = join_pointer(entity.pointer, "table") if entity.table else entity.pointer
    _check_sql_identifier(ctx, table, table_ptr, "table name", not entity.table,
                          "set `table:` (or `plural:`) to another name")
    for f in entity.fields:
        if f.synthesized or f.type in ("has_many",):
            continue
        if f.type == "many":
            if f.through:
                _check_sql_identifier(ctx, f.through, join_pointer(f.pointer, "through"), "link table name", False,
                                      "choose another `through:` name")
            continue
        # A ref is stored as `<name>_id` unless it names its column: `order: {type: ref}` is fine.
        column = f.column or (f"{f.name}_id" if f.type == "ref" else f.name)
        ptr = join_pointer(f.pointer, "column") if f.column else f.pointer
        _check_sql_identifier(ctx, column, ptr, "column name", not f.column,
                              f"keep the field name and set `column: {column}_value` (or another name)")


def _check_sql_identifier(ctx: CheckContext, name: str, pointer: str, kind: str, at_key: bool, hint: str) -> None:
    if name.lower() in SQL_RESERVED:
        ctx.report("K303", f"{kind} `{name}` is an SQL reserved word", pointer, at_key=at_key, hint=hint)
    if len(name.encode("utf-8")) > 63:
        ctx.report("K304", f"{kind} `{name[:20]}...` is {len(name.encode('utf-8'))} bytes long; PostgreSQL allows 63",
                   pointer, at_key=at_key, hint="use a shorter name")


def _check_member_collisions(ctx: CheckContext, entity) -> None:
    """Fields, computed fields and relations share one namespace; so do actions and transitions (paths)."""
    seen: dict[str, tuple[str, str]] = {}
    for f in entity.fields:
        seen.setdefault(f.name, ("field", f.pointer))
    for c in entity.computed:
        if c.name in seen:
            kind, first = seen[c.name]
            ctx.report("K308", f"computed field `{c.name}` has the same name as a {kind}", c.pointer, at_key=True,
                       hint="rename one of them", related=[(f"the {kind} `{c.name}`", first)])
        else:
            seen[c.name] = ("computed field", c.pointer)
    verbs: dict[str, tuple[str, str]] = {}
    for a in entity.actions:
        verbs[a.name] = ("action", a.pointer)
    if entity.workflow is not None:
        for t in entity.workflow.transitions:
            if t.name in verbs:
                ctx.report("K308", f"transition `{t.name}` has the same name as an action (both become "
                           f"`/{{id}}/{t.name}`)", t.pointer, at_key=True, hint="rename one of them",
                           related=[(f"the action `{t.name}`", verbs[t.name][1])])
    lowered: dict[str, tuple[str, str]] = {}
    for f in entity.fields:
        if f.type in ("many", "has_many"):
            continue
        for label, name in (("column", f.column_name), ("JSON name", wire_name(f.name, ctx.spec.api.wire_names))):
            key = f"{label}:{name.lower()}"
            if key in lowered and lowered[key][0] != name:
                ctx.report("K305", f"{label} `{name}` differs from `{lowered[key][0]}` only by case", f.pointer,
                           at_key=True, hint="rename one of them",
                           related=[(f"`{lowered[key][0]}`", lowered[key][1])])
            lowered.setdefault(key, (name, f.pointer))


def _check_entity_collisions(ctx: CheckContext) -> None:
    by_lower: dict[str, tuple[str, str]] = {}
    tables: dict[str, tuple[str, str]] = {}
    for entity in ctx.spec.entities:
        low = entity.name.lower()
        if low in by_lower:
            ctx.report("K305", f"entity `{entity.name}` differs from `{by_lower[low][0]}` only by case",
                       entity.pointer, at_key=True, hint="rename one of them",
                       related=[(f"entity `{by_lower[low][0]}`", by_lower[low][1])])
        by_lower.setdefault(low, (entity.name, entity.pointer))
        own_ptr = join_pointer(entity.pointer, "table") if entity.table else entity.pointer
        names = [(table_name(entity.name, entity.plural, entity.table), own_ptr, not entity.table)]
        names += [(f.through, join_pointer(f.pointer, "through"), False) for f in entity.fields if f.through]
        for table, ptr, at_key in names:
            low_t = table.lower()
            if low_t in RESERVED_TABLE_NAMES:
                ctx.report("K306", f"table name `{table}` is reserved: the generated app has a table of its own by "
                           "that name", ptr, at_key=at_key, hint="set `table:` (or `plural:`/`through:`) to another name")
            if low_t in tables and tables[low_t][1] != ptr:
                code = "K308" if tables[low_t][0] == table else "K305"
                ctx.report(code, f"table name `{table}` is already used by `{tables[low_t][0]}`", ptr, at_key=at_key,
                           hint="set `table:`/`plural:`/`through:` to tell them apart",
                           related=[(f"table `{tables[low_t][0]}`", tables[low_t][1])])
            tables.setdefault(low_t, (table, ptr))
