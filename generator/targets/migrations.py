"""View-models for the generated app's Alembic migrations: ``alembic.ini``, ``migrations/env.py``,
``migrations/script.py.mako`` and the initial revision ``migrations/versions/0001_initial.py``.

The initial revision is written from the IR, never by running autogenerate at generation
time, so it is deterministic (no dates, no random revision ids) and needs no database.
It must create exactly the schema ``models.py`` declares: the same tables, columns, types,
keys and defaults, and the same constraint and index names. Names come from the naming
convention below, a copy of the models' ``MetaData(naming_convention=...)``, applied the
way SQLAlchemy applies it; every name is printed wrapped in ``op.f()`` so neither Alembic
nor SQLAlchemy renames it again (SQLAlchemy still shortens an over-long name per dialect,
exactly as it does for the models).

Tables are created in dependency order (a table after the tables it references). A cycle
of foreign keys between tables is broken by declaring the closing key ``use_alter=True``:
PostgreSQL gets it with ``op.create_foreign_key`` once every table exists, SQLite (which
cannot ALTER a constraint in, and does not check references at CREATE time) keeps it
inline, exactly as ``metadata.create_all`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.ir.nodes import AppIR, ColumnIR, EntityIR, ForeignKeyIR, LinkTableIR
from generator.ir.order import creation_order
from generator.layout import call, py_str
from generator.targets.auth import LOGIN_THROTTLE_TABLE, login_throttle_columns
from generator.targets.trail import SupportTable, support_tables
from generator.targets.workflows import extra_migration_tables

if TYPE_CHECKING:  # generator.targets imports this module: import it back lazily
    from generator.targets import TemplateFile

__all__ = ["INITIAL_REVISION", "NAMING_CONVENTION", "SYNC_DRIVERS", "convention_name", "creation_order",
           "migration_files"]

INITIAL_REVISION = "0001"

# A copy of the naming convention of the models' MetaData (templates/app/package/models.py.j2).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# DATABASE_URL is the app's (async, or a plain URL its settings upgrade to async: see
# templates/app/package/settings.py.j2); migrations run on the sync driver for the same database.
SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite+pysqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg",
}

# Server-side defaults the models declare (generator/targets/models.py), by ColumnIR.server_value.
_SERVER_DEFAULTS = {"created": "sa.func.now()", "updated": "sa.func.now()"}

_SA_NAME = re.compile(r"\b([A-Z][A-Za-z]+)\(")


def convention_name(kind: str, table: str, columns: tuple[str, ...] = (), name: str | None = None,
                    referred_table: str = "") -> str:
    """The name SQLAlchemy gives a constraint or index of ``table`` under ``NAMING_CONVENTION``.

    An explicit ``name`` is kept unless the convention embeds it (``%(constraint_name)s``), as in
    ``sqlalchemy.sql.naming``. Over-long names are left to SQLAlchemy, which shortens them per
    dialect the same way for ``op.f()`` names as for the models' convention names.
    """
    convention = NAMING_CONVENTION.get(kind)
    if convention is None:  # check constraints: Keel names them all itself
        return name or ""
    if name is not None and "%(constraint_name)s" not in convention:
        return name
    return convention % {"table_name": table, "column_0_N_name": "_".join(columns),
                         "constraint_name": name or "", "referred_table_name": referred_table}


@dataclass(frozen=True)
class ForeignKeyView:
    table: str
    columns: tuple[str, ...]
    target: ForeignKeyIR
    deferred: bool  # closes a cycle: added after every table exists (where the dialect can ALTER)

    @property
    def name(self) -> str:
        return convention_name("fk", self.table, self.columns, referred_table=self.target.target_table)


@dataclass(frozen=True)
class TableView:
    name: str  # a Python string literal
    items: tuple[str, ...]  # op.create_table arguments after the name: columns, then constraints
    indexes: tuple[str, ...]  # op.create_index statements
    drop_indexes: tuple[str, ...]  # op.drop_index statements, reverse order


def migration_files(ir: AppIR) -> list[TemplateFile]:
    """Every migrations file of the generated app, to append to ``plan_files``."""
    from generator.targets import TemplateFile, header  # lazily: generator.targets imports this module

    base = {"header": header(ir), "package": ir.package}
    return [
        TemplateFile("alembic.ini", "app/alembic.ini.j2", {**base, "default_url": default_url(ir)}),
        TemplateFile("migrations/env.py", "app/migrations/env.py.j2", {**base, **env_context(ir)}),
        # "##" lines are Mako comments: the header stays out of the revisions users create from it.
        TemplateFile("migrations/script.py.mako", "app/migrations/script.py.mako.j2",
                     {"header": header(ir, "##")}),
        TemplateFile(f"migrations/versions/{INITIAL_REVISION}_initial.py", "app/migrations/versions/initial.py.j2",
                     {**base, **initial_revision_context(ir)}),
    ]


def default_url(ir: AppIR) -> str:
    return f"sqlite:///./{ir.package}.db"


def env_context(ir: AppIR) -> dict:
    return {
        "default_url_literal": repr(default_url(ir)),
        "sync_drivers_literal": repr(SYNC_DRIVERS),
    }


def initial_revision_context(ir: AppIR) -> dict:
    entities, deferred = creation_order(ir)
    fks = {
        (e.table, c.column): ForeignKeyView(e.table, (c.column,), c.foreign_key, (e.table, c.column) in deferred)
        for e in entities for c in e.columns if c.foreign_key is not None
    }
    tables = [_entity_table(e, fks) for e in entities] + [_link_table(t) for t in ir.link_tables]
    if login_throttle_columns(ir):  # sign-in's failed-login counts: no keys to other tables, so last
        tables.append(_login_throttle_table(ir))
    support = support_tables(ir)  # the audit log and the notification outbox (generator/targets/trail.py)
    tables += [_support_table(t) for t in support]
    tables += extra_migration_tables(ir)  # idempotency keys and approvals (generator/targets/workflows.py)
    late = [fk for fk in fks.values() if fk.deferred]
    return {
        "revision": INITIAL_REVISION,
        "revision_literal": py_str(INITIAL_REVISION),
        "tables": tuple(tables),
        "create_deferred": tuple(
            f"op.create_foreign_key({_f(fk.name)}, {_s(fk.table)}, {_s(fk.target.target_table)}, "
            f"{_list(fk.columns)}, {_list((fk.target.target_column,))}, ondelete={_s(fk.target.on_delete)})"
            for fk in late
        ),
        "drop_deferred": tuple(
            f'op.drop_constraint({_f(fk.name)}, {_s(fk.table)}, type_="foreignkey")' for fk in reversed(late)
        ),
        "drop_tables": tuple(reversed(tables)),
        # Triggers keeping the audit log append-only, per dialect (models.py installs the same ones).
        "support_ddl": tuple((py_str(d), call("op.execute", [py_str(sql)], 8)) for t in support for d, sql in t.ddl),
        "drop_functions": tuple(py_str(f"DROP FUNCTION IF EXISTS {name}()") for name in _functions(support)),
    }


def _entity_table(e: EntityIR, fks: dict[tuple[str, str], ForeignKeyView]) -> TableView:
    sql = {c.name: c.column for c in e.columns}  # ConstraintIR columns are attribute names
    items = [_column(c) for c in e.columns]
    items.append(f"sa.PrimaryKeyConstraint({_args(c.column for c in e.columns if c.primary_key)}, "
                 f"name={_f(convention_name('pk', e.table))})")
    for c in e.columns:
        if c.foreign_key is not None:
            items.append(_foreign_key(fks[(e.table, c.column)]))
    for c in e.columns:
        if c.unique:
            items.append(f"sa.UniqueConstraint({_s(c.column)}, name={_f(convention_name('uq', e.table, (c.column,)))})")
    for uc in e.unique_constraints:
        cols = tuple(sql[a] for a in uc.columns)
        items.append(f"sa.UniqueConstraint({_args(cols)}, name={_f(convention_name('uq', e.table, cols, uc.name))})")
    for ck in e.checks:
        items.append(call("sa.CheckConstraint", [py_str(ck.sql), f"name={_f(convention_name('ck', e.table, name=ck.name))}"],
                          8, reserve=1))
    indexes = [(convention_name("ix", e.table, (c.column,)), (c.column,)) for c in e.columns if c.index]
    for ix in e.indexes:
        cols = tuple(sql[a] for a in ix.columns)
        indexes.append((convention_name("ix", e.table, cols, ix.name), cols))
    return _table(e.table, items, indexes)


def _link_table(t: LinkTableIR) -> TableView:
    left = ForeignKeyView(t.name, (t.left_column,), ForeignKeyIR("", t.left_table, "id", "CASCADE"), False)
    right = ForeignKeyView(t.name, (t.right_column,), ForeignKeyIR("", t.right_table, "id", "CASCADE"), False)
    items = [
        f"sa.Column({_s(t.left_column)}, {_sa(t.left_type)}, nullable=False)",
        f"sa.Column({_s(t.right_column)}, {_sa(t.right_type)}, nullable=False)",
        f"sa.PrimaryKeyConstraint({_args((t.left_column, t.right_column))}, "
        f"name={_f(convention_name('pk', t.name))})",
        _foreign_key(left),
        _foreign_key(right),
    ]
    return _table(t.name, items, [(convention_name("ix", t.name, (t.right_column,)), (t.right_column,))])


def _login_throttle_table(ir: AppIR) -> TableView:
    """The table of ``generator.targets.auth.THROTTLE_COLUMNS``, as models.py declares it."""
    columns = login_throttle_columns(ir)
    items = [f"sa.Column({_s(c.name)}, {_sa(c.sa_type)}, nullable=False)" for c in columns]
    items.append(f"sa.PrimaryKeyConstraint({_args(c.name for c in columns if c.primary_key)}, "
                 f"name={_f(convention_name('pk', LOGIN_THROTTLE_TABLE))})")
    indexes = [(convention_name("ix", LOGIN_THROTTLE_TABLE, (c.name,)), (c.name,)) for c in columns if c.index]
    return _table(LOGIN_THROTTLE_TABLE, items, indexes)


def _support_table(t: SupportTable) -> TableView:
    """An audit or outbox table, as models.py declares it (no keys to other tables)."""
    items = []
    for c in t.columns:
        auto = "autoincrement=True" if c.primary_key else ""
        items.append(call("sa.Column", [_s(c.name), _sa(c.sa_type), *([auto] if auto else []),
                                        f"nullable={c.nullable and not c.primary_key}"], 8, reserve=1))
    items.append(f"sa.PrimaryKeyConstraint({_args(c.name for c in t.columns if c.primary_key)}, "
                 f"name={_f(convention_name('pk', t.table))})")
    for c in t.columns:
        if c.unique:
            items.append(call("sa.UniqueConstraint", [_s(c.name), f"name={_f(convention_name('uq', t.table, (c.name,)))}"],
                          8, reserve=1))
    indexes = [(convention_name("ix", t.table, (c.name,)), (c.name,)) for c in t.columns if c.index]
    indexes += [(convention_name("ix", t.table, cols, name), cols) for name, cols in t.indexes]
    return _table(t.table, items, indexes)


def _functions(support: tuple[SupportTable, ...]) -> list[str]:
    """PostgreSQL trigger functions the support tables' DDL creates (dropped on downgrade)."""
    return [sql.split("FUNCTION ", 1)[1].split("(", 1)[0] for t in support for d, sql in t.ddl
            if d == "postgresql" and sql.startswith("CREATE OR REPLACE FUNCTION ")]


def _table(name: str, items: list[str], indexes: list[tuple[str, tuple[str, ...]]]) -> TableView:
    return TableView(
        name=_s(name),
        items=tuple(items),
        indexes=tuple(call("op.create_index", [_f(ix), _s(name), _list(cols), "unique=False"], 4)
                      for ix, cols in indexes),
        drop_indexes=tuple(call("op.drop_index", [_f(ix), f"table_name={_s(name)}"], 4) for ix, _ in reversed(indexes)),
    )


def _column(c: ColumnIR) -> str:
    kwargs = []
    if c.primary_key and c.py_type == "int":
        kwargs.append("autoincrement=True")  # as the models say: an identity / rowid key
    kwargs.append(f"nullable={c.nullable and not c.primary_key}")
    if c.server_value in _SERVER_DEFAULTS:
        kwargs.append(f"server_default={_SERVER_DEFAULTS[c.server_value]}")
    return call("sa.Column", [_s(c.column), _sa(c.sa_type), *kwargs], 8, reserve=1)


def _foreign_key(fk: ForeignKeyView) -> str:
    target = f"{fk.target.target_table}.{fk.target.target_column}"
    alter = ", use_alter=True" if fk.deferred else ""
    return call("sa.ForeignKeyConstraint", [_list(fk.columns), _list((target,)), f"name={_f(fk.name)}",
                                            f"ondelete={_s(fk.target.on_delete)}" + alter], 8, reserve=1)


def _sa(sa_type: str) -> str:
    """``Numeric(12, 2)`` -> ``sa.Numeric(12, 2)``: the IR's type, qualified for ``import sqlalchemy as sa``."""
    return _SA_NAME.sub(r"sa.\1(", sa_type)


def _s(text: str) -> str:
    return py_str(text)


def _f(name: str) -> str:
    return f"op.f({py_str(name)})"


def _args(names) -> str:
    return ", ".join(_s(n) for n in names)


def _list(names) -> str:
    return f"[{_args(names)}]"
