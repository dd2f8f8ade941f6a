"""The difference between two schema snapshots, as the steps of an Alembic revision.

``diff_schemas(old, new)`` compares the snapshot a generated app carries
(``generator.targets.schema_snapshot``) with the one the spec gives now and returns
``Step``s (upgrade and downgrade source lines, ``op.*`` calls, printed by
``generator.targets.schema_ops``) plus the changes that
would lose data (``Loss``). It is a pure function; ``generator.targets.revisions``
decides what to do with losses (refuse, or write them with ``--allow-destructive``).

Renames come only from the spec (``renamed_from`` on an entity or a field), never
from guessing: a table or column that disappears while another appears is a drop and
an add, which loses data and is therefore refused unless allowed.

Order of the upgrade, chosen so each step finds what it needs:
  1. renames of tables, then of columns: plain ALTER ... RENAME on both dialects
     (SQLite rewrites CHECK expressions and other tables' REFERENCES itself); a renamed
     entity's name in the support tables' rows (its audit entries, pending approvals and
     notifications are found by entity name), the audit log's append-only guard lifted for it;
  2. new tables, parents before children;
  3. per changed table: drop indexes; one batch block (on SQLite a table copy) dropping
     constraints, adding columns (nullable first when they must be filled), changing
     types, relaxing NOT NULL, dropping columns; filling new NOT NULL columns from the
     field's default; a second batch block setting NOT NULL and adding constraints;
     then new indexes. Constraints and indexes whose name changed with a rename are
     dropped and re-created (they hold no data), except primary keys, which PostgreSQL
     renames in place (SQLite does not use the name);
  4. dropped tables, children before parents.
The downgrade is the reverse, step by step; a revision with an irreversible step
(dropped data) refuses to downgrade before changing anything.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from typing import Any

from generator.targets import schema_ops as ops
from generator.targets.migrations import _sa

__all__ = ["Loss", "Step", "SchemaDiff", "diff_schemas", "schema_equal"]

_IGNORED = ("entity", "fill", "source", "renamed_from", "field", "ddl")  # not part of the database schema


@dataclass(frozen=True)
class Step:
    what: str  # one line for the revision's docstring
    up: tuple[str, ...]
    down: tuple[str, ...] | None  # None: irreversible (the data is gone)
    lost: str = ""  # irreversible: what was dropped, e.g. "column tasks.notes"


@dataclass(frozen=True)
class Loss:
    """A change that loses data, or that existing rows cannot satisfy."""

    code: str  # K701 destructive, K702 no value for existing rows
    message: str
    hint: str
    source: str = ""  # spec location "file:line", when the spec still has the thing


@dataclass
class SchemaDiff:
    steps: list[Step] = field(default_factory=list)
    losses: list[Loss] = field(default_factory=list)  # K701: written only when allowed
    blockers: list[Loss] = field(default_factory=list)  # K702: never written
    imports: set[str] = field(default_factory=set)  # modules the fill values need
    words: list[str] = field(default_factory=list)  # for the revision's file name

    @property
    def empty(self) -> bool:
        return not self.steps


def _strip(t: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in t.items() if k not in _IGNORED}
    out["columns"] = sorted(({k: v for k, v in c.items() if k not in _IGNORED} for c in t["columns"]),
                            key=lambda c: c["name"])
    return out


def _canonical(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with each column type in one spelling (parsed and unparsed), so that a change in
    how Keel writes a type (quotes, spaces) is never taken for a change of the column."""
    out = {}
    for name, table in snapshot.items():
        columns = [{**c, "type": _canonical_type(c["type"])} if "type" in c else c for c in table["columns"]]
        out[name] = {**table, "columns": columns}
    return out


def _canonical_type(text: str) -> str:
    try:
        return ast.unparse(ast.parse(text, mode="eval"))
    except SyntaxError:
        return text


def schema_equal(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two snapshots describe the same database schema (spec locations and defaults aside),
    and no stored row names an entity that was renamed (see ``_relabels``)."""
    old, new = _canonical(old), _canonical(new)
    if old.keys() != new.keys() or any(_strip(old[n]) != _strip(new[n]) for n in old):
        return False
    return not _relabels(old, new, {})


# --- matching renames ------------------------------------------------------------------------------------


def _renames(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Table renames old -> new, and column renames per (new) table old -> new, from ``renamed_from``."""
    tables: dict[str, str] = {}
    by_entity = {t["entity"]: n for n, t in old.items() if t.get("entity")}
    for name, t in new.items():
        if name in old and old[name].get("entity") == t.get("entity"):
            continue
        was = by_entity.get(t.get("renamed_from") or "")
        if was is not None and was not in new:
            tables[was] = name
        elif was is not None and was == name:  # custom table name kept: only the entity changed
            continue
    columns: dict[str, dict[str, str]] = {}
    back = {v: k for k, v in tables.items()}
    for name, t in new.items():
        before = old.get(back.get(name, name))
        if before is None:
            continue
        old_cols = {c.get("field") or c["name"]: c["name"] for c in before["columns"]}
        new_names = {c["name"] for c in t["columns"]}
        for c in t["columns"]:
            was = old_cols.get(c.get("renamed_from") or "")
            if was is not None and was != c["name"] and was not in new_names:
                columns.setdefault(name, {})[was] = c["name"]
    return tables, columns


def _apply_renames(old: dict[str, Any], tables: dict[str, str], columns: dict[str, dict[str, str]]) -> dict:
    """``old`` as it is after the renames: same constraint names, new table and column names."""
    out = {}
    for name, t in old.items():
        t = copy.deepcopy(t)
        new_name = tables.get(name, name)
        cols = columns.get(new_name, {})
        t["name"] = new_name
        for c in t["columns"]:
            c["name"] = cols.get(c["name"], c["name"])
        for key in ("uniques", "indexes", "foreign_keys"):
            for item in t[key]:
                item["columns"] = [cols.get(x, x) for x in item["columns"]]
        for fk in t["foreign_keys"]:
            fk["referred_table"] = tables.get(fk["referred_table"], fk["referred_table"])
        t["primary_key"]["columns"] = [cols.get(x, x) for x in t["primary_key"]["columns"]]
        for ck in t["checks"]:
            for a, b in cols.items():
                ck["sql"] = ck["sql"].replace(f'"{a}"', f'"{b}"')
        out[new_name] = t
    return out


def _relabels(old: dict[str, Any], new: dict[str, Any], tables: dict[str, str]) -> list[Step]:
    """Steps renaming the entity in the support tables' rows (audit entries, approvals, notifications)
    for each entity whose table's rows are kept under a new entity name (``tables``: table renames)."""
    back = {b: a for a, b in tables.items()}
    renames = []
    for name, t in sorted(new.items()):
        before = old.get(back.get(name, name))
        if before is not None and before.get("entity") and t.get("entity") and before["entity"] != t["entity"]:
            renames.append((before["entity"], t["entity"]))
    steps = []
    for name in sorted(set(old) & set(new)) if renames else ():
        if old[name].get("entity") is None and "entity" in {c["name"] for c in old[name]["columns"]}:
            steps.append(Step(f"rename {', '.join(f'{a} to {b}' for a, b in renames)} in {name}",
                              tuple(ops.relabel(old[name], renames)),
                              tuple(ops.relabel(new[name], [(b, a) for a, b in reversed(renames)]))))
    return steps


# --- the diff --------------------------------------------------------------------------------------------


def diff_schemas(old: dict[str, Any], new: dict[str, Any]) -> SchemaDiff:
    old, new = _canonical(old), _canonical(new)
    d = SchemaDiff()
    table_renames, column_renames = _renames(old, new)
    for a, b in sorted(table_renames.items()):
        d.steps.append(Step(f"rename table {a} to {b}", (f"op.rename_table({a!r}, {b!r})",),
                            (f"op.rename_table({b!r}, {a!r})",)))
        d.words += ["rename", b]
    for table, cols in sorted(column_renames.items()):
        for a, b in sorted(cols.items()):
            d.steps.append(Step(f"rename column {table}.{a} to {b}",
                                (f"op.alter_column({table!r}, {a!r}, new_column_name={b!r})",),
                                (f"op.alter_column({table!r}, {b!r}, new_column_name={a!r})",)))
            d.words += ["rename", b]
    d.steps += _relabels(old, new, table_renames)
    mapped = _apply_renames(old, table_renames, column_renames)
    added = [n for n in new if n not in mapped]
    for name in _parents_first(added, new):
        d.steps.append(_create_table(new[name]))
        d.words += ["add", name]
    for name in sorted(set(mapped) & set(new)):
        _alter_table(d, mapped[name], new[name])
    dropped = [n for n in mapped if n not in new]
    for name in reversed(_parents_first(dropped, mapped)):
        was = next((a for a, b in table_renames.items() if b == name), name)
        d.losses.append(Loss("K701", f"table `{was}` is no longer in the spec: dropping it deletes its rows",
                             "if the entity was renamed, add `renamed_from: <old name>` to it; to drop it and its "
                             "data, run `keel generate --allow-destructive`"))
        d.steps.append(Step(f"drop table {name}", tuple(ops.drop_table(mapped[name])), None, f"table {name}"))
        d.words += ["drop", name]
    return d


def _parents_first(names: list[str], tables: dict[str, Any]) -> list[str]:
    """Tables in an order where each comes after the tables (of ``names``) it references."""
    out: list[str] = []
    pending = sorted(names)
    while pending:
        ready = [n for n in pending if all(fk["referred_table"] in out or fk["referred_table"] not in pending
                                           or fk["referred_table"] == n or fk["use_alter"]
                                           for fk in tables[n]["foreign_keys"])]
        ready = ready or pending[:1]  # a cycle: its closing key is use_alter
        out += ready
        pending = [n for n in pending if n not in ready]
    return out


def _create_table(t: dict[str, Any]) -> Step:
    name = t["name"]
    items = [ops.column(c) for c in t["columns"]]
    pk = t["primary_key"]
    items.append(f"sa.PrimaryKeyConstraint({ops.args(pk['columns'])}, name={ops.f(pk['name'])})")
    items += [ops.fk_item(fk) for fk in t["foreign_keys"]]
    items += [f"sa.UniqueConstraint({ops.args(u['columns'])}, name={ops.f(u['name'])})" for u in t["uniques"]]
    items += [f"sa.CheckConstraint({c['sql']!r}, name={ops.f(c['name'])})" for c in t["checks"]]
    up = [f"op.create_table({name!r}, {', '.join(items)})"]
    up += [f"op.create_index({ops.f(ix['name'])}, {name!r}, {ix['columns']!r}, unique=False)" for ix in t["indexes"]]
    if t.get("ddl"):
        up.append("dialect = op.get_context().dialect.name")
        up += [f"if dialect == {dialect!r}:\n    op.execute({sql!r})" for dialect, sql in t["ddl"]]
    return Step(f"create table {name}", tuple(up), tuple(ops.drop_table(t)))


def _alter_table(d: SchemaDiff, old: dict[str, Any], new: dict[str, Any]) -> None:
    name = new["name"]
    where = new.get("source", "")
    first_up: list[str] = []  # batch block 1
    first_down: list[str] = []
    fills: list[str] = []
    second_up: list[str] = []  # batch block 2
    second_down: list[str] = []
    irreversible: list[str] = []
    what: list[str] = []
    old_cols = {c["name"]: c for c in old["columns"]}
    new_cols = {c["name"]: c for c in new["columns"]}
    # Constraints: kept when identical, else dropped (block 1) and created (block 2).
    for kind in ("uniques", "checks", "foreign_keys"):
        before = {x["name"]: x for x in old[kind]}
        after = {x["name"]: x for x in new[kind]}
        for cname in sorted(before):
            if after.get(cname) != before[cname]:
                first_up.append(ops.drop_constraint(kind, cname))
                first_down.insert(0, ops.create_constraint(kind, before[cname]))
                what.append(f"drop {ops.KIND[kind]} {cname}")
        for cname in sorted(after):
            if before.get(cname) != after[cname]:
                second_up.append(ops.create_constraint(kind, after[cname]))
                second_down.insert(0, ops.drop_constraint(kind, cname))
                what.append(f"add {ops.KIND[kind]} {cname}")
    for cname, c in new_cols.items():
        if cname not in old_cols:
            fill = c.get("fill")
            if not c["nullable"] and fill is None:
                d.blockers.append(Loss("K702", f"new required field `{c.get('field') or cname}` of table `{name}` "
                                       "has no value for the rows already stored",
                                       "give the field a `default:` (existing rows get it), or make it "
                                       "`required: false`", c.get("source") or where))
                continue
            first_up.append(f"batch_op.add_column({ops.column(c, nullable=True)})")
            first_down.insert(0, f"batch_op.drop_column({cname!r})")
            if not c["nullable"]:
                fills.append(ops.fill(d.imports, name, c))
                second_up.append(f"batch_op.alter_column({cname!r}, existing_type={_sa(c['type'])}, nullable=False)")
                second_down.insert(0, f"batch_op.alter_column({cname!r}, existing_type={_sa(c['type'])}, "
                                      "nullable=True)")
            what.append(f"add column {name}.{cname}")
            d.words += ["add", cname]
    for cname, c in new_cols.items():
        was = old_cols.get(cname)
        if was is None:
            continue
        if was["type"] != c["type"]:
            if ops.narrows(was["type"], c["type"]):
                d.losses.append(Loss("K701", f"column `{name}.{cname}` changes from {was['type']} to {c['type']}, "
                                     "which may not hold every stored value",
                                     "keep the wider type, or run `keel generate --allow-destructive` to narrow it "
                                     "(the migration fails if a stored value does not fit)",
                                     c.get("source") or where))
            first_up.append(f"batch_op.alter_column({cname!r}, existing_type={_sa(was['type'])}, "
                            f"type_={_sa(c['type'])}, existing_nullable={was['nullable']})")
            first_down.insert(0, f"batch_op.alter_column({cname!r}, existing_type={_sa(c['type'])}, "
                                 f"type_={_sa(was['type'])}, existing_nullable={was['nullable']})")
            what.append(f"change type of {name}.{cname} to {c['type']}")
            d.words += ["alter", cname]
        if was["nullable"] and not c["nullable"]:
            if c.get("fill") is None:
                d.blockers.append(Loss("K702", f"field `{c.get('field') or cname}` of table `{name}` becomes "
                                       "required, but stored rows may have no value",
                                       "give the field a `default:` (rows without a value get it), or keep it "
                                       "`required: false`", c.get("source") or where))
                continue
            fills.append(ops.fill(d.imports, name, c))
            second_up.append(f"batch_op.alter_column({cname!r}, existing_type={_sa(c['type'])}, nullable=False)")
            second_down.insert(0, f"batch_op.alter_column({cname!r}, existing_type={_sa(c['type'])}, nullable=True)")
            what.append(f"make {name}.{cname} required")
        elif not was["nullable"] and c["nullable"]:
            first_up.append(f"batch_op.alter_column({cname!r}, existing_type={_sa(c['type'])}, nullable=True)")
            first_down.insert(0, f"batch_op.alter_column({cname!r}, existing_type={_sa(c['type'])}, nullable=False)")
            what.append(f"make {name}.{cname} optional")
        if was.get("server_default") != c.get("server_default"):
            default = "sa.func.now()" if c.get("server_default") == "now" else "None"
            previous = "sa.func.now()" if was.get("server_default") == "now" else "None"
            first_up.append(f"batch_op.alter_column({cname!r}, existing_type={_sa(c['type'])}, "
                            f"server_default={default})")
            first_down.insert(0, f"batch_op.alter_column({cname!r}, existing_type={_sa(c['type'])}, "
                                 f"server_default={previous})")
    for cname, c in old_cols.items():
        if cname not in new_cols:
            d.losses.append(Loss("K701", f"column `{name}.{cname}` is no longer in the spec: dropping it deletes "
                                 "its values", "if the field was renamed, add `renamed_from: <old name>` to it; to "
                                 "drop it and its data, run `keel generate --allow-destructive`", where))
            first_up.append(f"batch_op.drop_column({cname!r})")
            irreversible.append(f"{name}.{cname}")
            what.append(f"drop column {name}.{cname}")
            d.words += ["drop", cname]
    old_ix = {x["name"]: x for x in old["indexes"]}
    new_ix = {x["name"]: x for x in new["indexes"]}
    drop_ix = [x for n, x in sorted(old_ix.items()) if new_ix.get(n) != x]
    add_ix = [x for n, x in sorted(new_ix.items()) if old_ix.get(n) != x]
    what += [f"drop index {x['name']}" for x in drop_ix] + [f"add index {x['name']}" for x in add_ix]
    if add_ix or drop_ix:
        d.words += ["index"]
    if old["primary_key"]["name"] != new["primary_key"]["name"]:
        a, b = old["primary_key"]["name"], new["primary_key"]["name"]
        rename = 'if op.get_context().dialect.name == "postgresql":  # SQLite does not use the name\n    '
        pk_up = f"{rename}op.execute({ops.rename_constraint(name, a, b)!r})"
        pk_down = f"{rename}op.execute({ops.rename_constraint(name, b, a)!r})"
    else:
        pk_up = pk_down = ""
    if not (first_up or second_up or fills or add_ix or drop_ix or pk_up):
        return
    up = [f"op.drop_index({ops.f(x['name'])}, table_name={name!r})" for x in drop_ix]
    down = [f"op.create_index({ops.f(x['name'])}, {name!r}, {x['columns']!r}, unique=False)" for x in drop_ix]
    if not fills:  # one batch block (on SQLite one copy of the table) when nothing must happen in between
        first_up, second_up = first_up + second_up, []
        first_down, second_down = [], second_down + first_down
    if first_up:
        up.append(ops.batch(name, first_up))
    up += fills
    if second_up:
        up.append(ops.batch(name, second_up))
    if first_up or second_up:  # SQLite's table copy drops the table's triggers (the audit log's guard)
        up += ops.sqlite_ddl_again(new)
    up += [f"op.create_index({ops.f(x['name'])}, {name!r}, {x['columns']!r}, unique=False)" for x in add_ix]
    if pk_up:
        up.append(pk_up)
    # The downgrade undoes the same blocks in reverse (filled values simply stay).
    undo = [pk_down] if pk_down else []
    undo += [f"op.drop_index({ops.f(x['name'])}, table_name={name!r})" for x in reversed(add_ix)]
    if second_down:
        undo.append(ops.batch(name, second_down))
    if first_down:
        undo.append(ops.batch(name, first_down))
    if first_down or second_down:
        undo += ops.sqlite_ddl_again(old)
    undo += down
    lost = ("column " if len(irreversible) == 1 else "columns ") + ", ".join(irreversible) if irreversible else ""
    d.steps.append(Step(f"alter table {name}: " + "; ".join(what or ["rename primary key"]), tuple(up),
                        None if irreversible else tuple(undo), lost))
