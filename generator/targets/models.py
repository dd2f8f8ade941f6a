"""View-model for ``models.py``: the SQLAlchemy 2 typed ORM classes of the generated app.

Every line the template prints is computed here: column calls, relationship
calls, table arguments and the exact imports they need. Relationships load
with ``lazy="raise"``, so the generated routers must say what they load (no
accidental N+1 queries, no implicit I/O in async code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.ir.nodes import AppIR, ColumnIR, EntityIR, LinkTableIR, RelationIR
from generator.ir.order import creation_order
from generator.layout import call, from_import, one_tuple, py_str
from generator.targets.auth import login_throttle_model
from generator.targets.trail import support_models
from generator.targets.workflows import extra_models

# SQLAlchemy calls the models print unqualified; not ``decimal.Decimal(`` (a default's value).
_SA_NAME = re.compile(r"(?<![\w.])([A-Z][A-Za-z]+)\(")
_PY_MODULES = {"uuid.UUID": "uuid", "decimal.Decimal": "decimal", "datetime.date": "datetime",
               "datetime.datetime": "datetime"}


@dataclass(frozen=True)
class Line:
    """One printed statement, and the spec location it came from (for a trailing comment)."""

    code: str
    source: str = ""


@dataclass(frozen=True)
class EntityView:
    name: str
    doc: str
    table: str
    table_args: tuple[Line, ...]
    columns: tuple[Line, ...]
    relations: tuple[Line, ...]
    source: str
    computed: tuple[Line, ...] = ()
    table_args_line: str | None = None  # the one-item tuple on one line, as black prints it


def models_context(ir: AppIR) -> dict:
    by_name = {e.name: e for e in ir.entities}
    _, deferred = creation_order(ir)
    entities = tuple(_entity_view(e, by_name, ir, deferred) for e in ir.entities)
    links = tuple(_link_table(t) for t in ir.link_tables)
    code = "\n".join(line.code for view in entities
                     for line in view.columns + view.table_args + view.relations + view.computed)
    code += "\n".join(links)
    throttle = login_throttle_model(ir)  # sign-in's failed-login counts (None without auth)
    if throttle is not None:
        code += "\n" + "\n".join(throttle["columns"])
    support = support_models(ir)  # the audit log and the notification outbox, when the spec needs them
    support += extra_models(ir)  # idempotency keys and approvals (generator/targets/workflows.py)
    for table in support:
        code += "\n" + "\n".join(table["columns"] + table["table_args"])
        if table["ddl"]:  # not scanned for names: the SQL inside is not Python
            code += "\nDDL(event.listen("
    return {"title": ir.title, "entities": entities, "link_tables": links, "imports": _imports(code, ir),
            "login_throttle": throttle, "support_tables": support}


def _imports(code: str, ir: AppIR) -> tuple[str, ...]:
    sa_names = set(_SA_NAME.findall(code)) | {"MetaData"}
    if ir.link_tables:
        sa_names |= {"Column", "Table"}
    if "func." in code:
        sa_names.add("func")
    modules = {"datetime"}  # the _utcnow helper
    for py_type, module in _PY_MODULES.items():
        if py_type in code:
            modules.add(module)
    lines = [f"import {m}" for m in sorted(modules)]
    if "Any" in code:
        lines.append("from typing import Any")
    lines.append("")
    if "event.listen(" in code:  # support tables' triggers (generator/targets/trail.py)
        sa_names.add("event")
    lines.append(from_import("sqlalchemy", sorted(sa_names - {"Mapped"})))
    computed = ["query_expression"] if any(c.sql for e in ir.entities for c in e.computed) else []
    relationship = ["relationship"] if "= relationship(" in code else []
    lines.append(from_import("sqlalchemy.orm", ["DeclarativeBase", "Mapped", "mapped_column", *computed, *relationship]))
    return tuple(lines)


def _link_table(t: LinkTableIR) -> str:
    left = call("Column", [f'"{t.left_column}"', t.left_type,
                           f'ForeignKey("{t.left_table}.id", ondelete="CASCADE")', "primary_key=True"], 4, ",")
    right = call("Column", [f'"{t.right_column}"', t.right_type,
                            f'ForeignKey("{t.right_table}.id", ondelete="CASCADE")', "primary_key=True",
                            "index=True"], 4, ",")
    return f'{t.name} = Table(\n    "{t.name}",\n    Base.metadata,\n    {left}\n    {right}\n)'


def _entity_view(e: EntityIR, by_name: dict[str, EntityIR], ir: AppIR,
                 deferred: set[tuple[str, str]]) -> EntityView:
    args: list[Line] = []
    sql = {c.name: c.column for c in e.columns}  # table arguments name database columns
    for uc in e.unique_constraints:
        cols = ", ".join(f'"{sql[c]}"' for c in uc.columns)
        args.append(Line(call("UniqueConstraint", [cols, f'name="{uc.name}"'], 8, ",")))
    for ck in e.checks:
        args.append(Line(call("CheckConstraint", [py_str(ck.sql), f"name={py_str(ck.name)}"], 8, ","), ck.source))
    for ix in e.indexes:
        cols = ", ".join(f'"{sql[c]}"' for c in ix.columns)
        args.append(Line(call("Index", [f'"{ix.name}"', cols], 8, ",")))
    doc = e.description or f"A {e.name} record."
    return EntityView(
        name=e.name,
        doc=doc,
        table=e.table,
        table_args=tuple(args),
        columns=tuple(_without_entity_source(_column(e, c, (e.table, c.column) in deferred), e) for c in e.columns),
        relations=tuple(_relation(e, r, by_name, ir) for r in e.relations),
        source=e.source,
        # Loaded by each query with with_expression (the routers build it per request): never stored.
        computed=tuple(Line(f"{c.name}: Mapped[{c.py_type} | None] = query_expression()", c.source)
                       for c in e.computed if c.sql),
        table_args_line=None if any(a.source for a in args) else one_tuple("__table_args__", [a.code for a in args], 4),
    )


def _without_entity_source(line: Line, e: EntityIR) -> Line:
    """Implicit columns (id, timestamps) come from the entity itself: its docstring already says where."""
    return Line(line.code) if line.source == e.source else line


def _column(e: EntityIR, c: ColumnIR, closes_cycle: bool = False) -> Line:
    annotation = c.py_type + (" | None" if c.nullable else "")
    args = [c.sa_type]
    if c.foreign_key is not None:
        fk = c.foreign_key
        # A key that closes a cycle of tables is added after both exist (use_alter).
        alter = ", use_alter=True" if closes_cycle else ""
        args.append(f'ForeignKey("{fk.target_table}.{fk.target_column}", ondelete="{fk.on_delete}"{alter})')
    kwargs: list[str] = []
    if c.column != c.name:
        args.insert(0, f'"{c.column}"')
    if c.primary_key:
        kwargs.append("primary_key=True")
        kwargs.append("default=uuid.uuid4" if c.py_type == "uuid.UUID" else "autoincrement=True")
    else:
        kwargs.append(f"nullable={c.nullable}")
    if c.unique:
        kwargs.append("unique=True")
    if c.index:
        kwargs.append("index=True")
    if c.server_value == "created":
        kwargs += ["default=_utcnow", "server_default=func.now()"]
    elif c.server_value == "updated":
        kwargs += ["default=_utcnow", "onupdate=_utcnow", "server_default=func.now()"]
    elif c.server_value == "now":
        kwargs.append("default=_utcnow")
    elif c.server_value == "today":
        kwargs.append("default=_today")
    elif c.server_value == "uuid":
        kwargs.append("default=uuid.uuid4")
    elif c.has_default and c.default is not None:
        kwargs.append(f"default={_literal(c)}")
    return Line(call(f"{c.name}: Mapped[{annotation}] = mapped_column", args + kwargs, 4), c.source)


def _literal(c: ColumnIR) -> str:
    if c.py_type == "decimal.Decimal":
        return f'decimal.Decimal("{c.default}")'
    if c.py_type == "datetime.date":
        return f"datetime.date.fromisoformat({py_str(c.default)})"
    if c.py_type == "datetime.datetime":
        return f"datetime.datetime.fromisoformat({py_str(c.default)})"
    if c.py_type == "uuid.UUID":
        return f"uuid.UUID({py_str(c.default)})"
    if c.py_type == "Any":
        return f"lambda: {c.default!r}"  # a fresh copy per row, never a shared mutable default
    return py_str(c.default) if isinstance(c.default, str) else repr(c.default)


def _relation(e: EntityIR, r: RelationIR, by_name: dict[str, EntityIR], ir: AppIR) -> Line:
    kwargs = []
    if r.kind == "many_to_one":
        fk = next(c for c in e.columns if c.name == r.fk_attribute)
        annotation = r.target if not fk.nullable else f"{r.target} | None"
        kwargs.append(f"foreign_keys=[{r.fk_attribute}]")
        if r.target == e.name:
            kwargs.append("remote_side=[id]")
    elif r.kind == "one_to_many":
        annotation = f"list[{r.target}]"
        target = by_name[r.target]
        fk_attr = next(rel.fk_attribute for rel in target.relations if rel.name == r.back_populates)
        kwargs.append(f'foreign_keys="{r.target}.{fk_attr}"')
    else:
        annotation = f"list[{r.target}]"
        kwargs.append(f"secondary={r.link_table}")
        link = next(t for t in ir.link_tables if t.name == r.link_table)
        if link.left_table == link.right_table:
            near, far = (link.left_column, link.right_column) if r.link_owner else (link.right_column,
                                                                                   link.left_column)
            kwargs.append(f"primaryjoin=lambda: {e.name}.id == {link.name}.c.{near}")
            kwargs.append(f"secondaryjoin=lambda: {e.name}.id == {link.name}.c.{far}")
    if r.back_populates:
        kwargs.append(f'back_populates="{r.back_populates}"')
    kwargs.append('lazy="raise"')
    return Line(call(f"{r.name}: Mapped[{annotation}] = relationship", kwargs, 4), r.source)
