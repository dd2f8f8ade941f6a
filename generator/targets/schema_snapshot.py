"""The database schema a spec generates, as plain sorted data: ``migrations/schema_snapshot.json``.

Every table, column, key, constraint and index that ``models.py`` declares and the
initial revision creates, with the same names (``generator.targets.migrations``'
naming convention), plus where each table and column came from in the spec (entity
and field names, so ``renamed_from`` can be matched to the previous snapshot).

The generated app carries the snapshot of the spec it was last generated from, with
the list of revisions written so far. On the next ``keel generate`` the new snapshot
is compared with it (``generator.targets.schema_diff``) and the difference becomes a
new revision. The snapshot is JSON with sorted keys, so the same spec always gives
the same bytes.
"""

from __future__ import annotations

from typing import Any

from generator.ir.nodes import AppIR, ColumnIR, EntityIR
from generator.ir.order import creation_order
from generator.targets.auth import LOGIN_THROTTLE_TABLE, login_throttle_columns
from generator.targets.migrations import INITIAL_REVISION, convention_name
from generator.targets.trail import support_tables
from generator.targets.workflows import extra_tables

__all__ = ["SNAPSHOT_FORMAT", "SNAPSHOT_PATH", "Table", "initial_history", "schema_of", "snapshot_document"]

SNAPSHOT_PATH = "migrations/schema_snapshot.json"
SNAPSHOT_FORMAT = "keel.schema/1"

Table = dict[str, Any]  # see _table(): columns, primary_key, foreign_keys, uniques, checks, indexes, ddl

_TRANSIENT = ("renamed_from", "source")  # what the diff needs from the spec but the snapshot does not keep

# Automatic values a new NOT NULL column can be filled with on existing rows: SQL the database evaluates.
_SERVER_FILL = {"created": "now", "updated": "now", "now": "now", "today": "today"}


def schema_of(ir: AppIR) -> dict[str, Table]:
    """Every table of the app by name (the models' metadata, as data)."""
    entities, deferred = creation_order(ir)
    tables: dict[str, Table] = {}
    for e in entities:
        tables[e.table] = _entity_table(e, deferred)
    for t in ir.link_tables:
        fks = [_fk(t.name, t.left_column, t.left_table, "id", "CASCADE"),
               _fk(t.name, t.right_column, t.right_table, "id", "CASCADE")]
        tables[t.name] = _table(
            t.name, None,
            [_col(t.left_column, t.left_type, False, primary_key=True),
             _col(t.right_column, t.right_type, False, primary_key=True)],
            fks=fks, indexes=[_ix(t.name, (t.right_column,))], autoincrement=False)
    throttle = login_throttle_columns(ir)
    if throttle:
        tables[LOGIN_THROTTLE_TABLE] = _table(
            LOGIN_THROTTLE_TABLE, None,
            [_col(c.name, c.sa_type, False, primary_key=c.primary_key) for c in throttle],
            indexes=[_ix(LOGIN_THROTTLE_TABLE, (c.name,)) for c in throttle if c.index], autoincrement=False)
    for s in support_tables(ir):
        tables[s.table] = _table(
            s.table, None,
            [_col(c.name, c.sa_type, c.nullable and not c.primary_key, primary_key=c.primary_key,
                  autoincrement=c.primary_key) for c in s.columns],
            uniques=[_uq(s.table, (c.name,)) for c in s.columns if c.unique],
            indexes=[_ix(s.table, (c.name,)) for c in s.columns if c.index]
            + [_ix(s.table, cols, name) for name, cols in s.indexes],
            ddl=[list(d) for d in s.ddl])
    for x in extra_tables(ir):
        tables[x.table] = _table(
            x.table, None,
            [_col(c.name, c.sa_type, c.nullable and not c.primary_key, primary_key=c.primary_key)
             for c in x.columns],
            uniques=[_uq(x.table, (c.name,)) for c in x.columns if getattr(c, "unique", False)],
            indexes=[_ix(x.table, (c.name,)) for c in x.columns if c.index]
            + [_ix(x.table, tuple(cols)) for cols in x.indexes])
    return tables


def _entity_table(e: EntityIR, deferred: set[tuple[str, str]]) -> Table:
    sql = {c.name: c.column for c in e.columns}  # ConstraintIR columns are attribute names
    columns = [_entity_column(c) for c in e.columns]
    fks = [_fk(e.table, c.column, c.foreign_key.target_table, c.foreign_key.target_column, c.foreign_key.on_delete,
               use_alter=(e.table, c.column) in deferred)
           for c in e.columns if c.foreign_key is not None]
    uniques = [_uq(e.table, (c.column,)) for c in e.columns if c.unique]
    uniques += [_uq(e.table, tuple(sql[a] for a in uc.columns), uc.name) for uc in e.unique_constraints]
    indexes = [_ix(e.table, (c.column,)) for c in e.columns if c.index]
    indexes += [_ix(e.table, tuple(sql[a] for a in ix.columns), ix.name) for ix in e.indexes]
    checks = [{"name": ck.name, "sql": ck.sql} for ck in e.checks]
    table = _table(e.table, e.name, columns, fks=fks, uniques=uniques, checks=checks, indexes=indexes)
    table["renamed_from"] = e.renamed_from
    table["source"] = e.source
    return table


def _entity_column(c: ColumnIR) -> dict[str, Any]:
    col = _col(c.column, c.sa_type, c.nullable and not c.primary_key, primary_key=c.primary_key,
               autoincrement=c.primary_key and c.py_type == "int")
    col["field"] = c.name  # the attribute (refs: <field>_id), matched by renamed_from
    # The attribute the field had under its previous name (refs store <field>_id, passwords <field>_hash).
    suffix = "_id" if c.foreign_key is not None else "_hash" if c.spec_type == "password" else ""
    col["renamed_from"] = f"{c.renamed_from}{suffix}" if c.renamed_from else None
    col["source"] = c.source  # where the spec declares it (for diagnostics; not stored)
    if c.server_value in ("created", "updated"):
        col["server_default"] = "now"
    # What existing rows get when this column is added as NOT NULL (generator.targets.schema_diff).
    if c.server_value in _SERVER_FILL:
        col["fill"] = {"sql": _SERVER_FILL[c.server_value]}
    elif c.has_default and c.default is not None:
        col["fill"] = {"value": c.default, "py_type": c.py_type}
    return col


def _col(name: str, sa_type: str, nullable: bool, primary_key: bool = False,
         autoincrement: bool = False) -> dict[str, Any]:
    return {"name": name, "type": sa_type, "nullable": nullable, "primary_key": primary_key,
            "autoincrement": autoincrement, "server_default": None}


def _fk(table: str, column: str, target: str, target_column: str, on_delete: str,
        use_alter: bool = False) -> dict[str, Any]:
    return {"name": convention_name("fk", table, (column,), referred_table=target), "columns": [column],
            "referred_table": target, "referred_columns": [target_column], "ondelete": on_delete,
            "use_alter": use_alter}


def _uq(table: str, columns: tuple[str, ...], name: str | None = None) -> dict[str, Any]:
    return {"name": convention_name("uq", table, columns, name), "columns": list(columns)}


def _ix(table: str, columns: tuple[str, ...], name: str | None = None) -> dict[str, Any]:
    return {"name": convention_name("ix", table, columns, name), "columns": list(columns)}


def _table(name: str, entity: str | None, columns: list[dict[str, Any]], *, fks=(), uniques=(), checks=(),
           indexes=(), ddl=(), autoincrement: bool = True) -> Table:
    if not autoincrement:
        for c in columns:
            c["autoincrement"] = False
    by_name = lambda items: sorted(items, key=lambda d: d["name"])  # noqa: E731
    return {
        "name": name,
        "entity": entity,
        "renamed_from": None,
        "columns": list(columns),  # in declaration order (CREATE TABLE keeps it)
        "primary_key": {"name": convention_name("pk", name),
                        "columns": [c["name"] for c in columns if c["primary_key"]]},
        "foreign_keys": by_name(fks),
        "uniques": by_name(uniques),
        "checks": by_name(checks),
        "indexes": by_name(indexes),
        "ddl": list(ddl),
    }


def initial_history() -> list[dict[str, str]]:
    return [{"revision": INITIAL_REVISION, "file": f"migrations/versions/{INITIAL_REVISION}_initial.py"}]


def snapshot_document(tables: dict[str, Table], history: list[dict[str, str]]) -> dict[str, Any]:
    """The JSON document of ``migrations/schema_snapshot.json`` (serialised with sorted keys).

    Tables are stored without the spec's ``renamed_from`` notes: a rename applies once, from the
    snapshot it was written against; the next snapshot simply has the new names.
    """
    stored = {}
    for name, table in tables.items():
        t = {k: v for k, v in table.items() if k not in _TRANSIENT}
        t["columns"] = [{k: v for k, v in c.items() if k not in _TRANSIENT} for c in table["columns"]]
        stored[name] = t
    return {
        "format": SNAPSHOT_FORMAT,
        "about": "The database schema this app was last generated with, and its Alembic revisions in order. "
                 "Keel compares it with the spec to write the next revision; do not edit it.",
        "revisions": history,
        "tables": stored,
    }
