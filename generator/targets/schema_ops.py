"""Source lines of Alembic operations, from schema snapshot data (``generator.targets.schema_diff``).

Each function returns Python source for one operation (or a ``with op.batch_alter_table``
block); names are printed wrapped in ``op.f()`` so neither Alembic nor SQLAlchemy renames them
again, as in the initial revision (``generator.targets.migrations``).
"""

from __future__ import annotations

import re
from typing import Any

from generator.targets.migrations import _sa

__all__ = ["KIND", "args", "batch", "column", "create_constraint", "drop_constraint", "drop_table", "f", "fill",
           "fk_item", "narrows", "relabel", "rename_constraint", "sqlite_ddl_again"]


def drop_table(t: dict[str, Any]) -> list[str]:
    name = t["name"]
    lines = [f"op.drop_index({f(ix['name'])}, table_name={name!r})" for ix in reversed(t["indexes"])]
    return lines + [f"op.drop_table({name!r})"]


def fk_item(fk: dict[str, Any]) -> str:
    target = [f"{fk['referred_table']}.{c}" for c in fk["referred_columns"]]
    alter = ", use_alter=True" if fk["use_alter"] else ""
    return (f"sa.ForeignKeyConstraint({fk['columns']!r}, {target!r}, name={f(fk['name'])}, "
            f"ondelete={fk['ondelete']!r}{alter})")


def column(c: dict[str, Any], nullable: bool | None = None) -> str:
    kwargs = []
    if c["autoincrement"]:
        kwargs.append("autoincrement=True")
    kwargs.append(f"nullable={c['nullable'] if nullable is None else nullable}")
    if c.get("server_default") == "now":
        kwargs.append("server_default=sa.func.now()")
    return f"sa.Column({c['name']!r}, {_sa(c['type'])}, {', '.join(kwargs)})"


KIND = {"uniques": "unique constraint", "checks": "check constraint", "foreign_keys": "foreign key"}


def drop_constraint(kind: str, name: str) -> str:
    type_ = {"uniques": "unique", "checks": "check", "foreign_keys": "foreignkey"}[kind]
    return f"batch_op.drop_constraint({f(name)}, type_={type_!r})"


def create_constraint(kind: str, c: dict[str, Any]) -> str:
    if kind == "uniques":
        return f"batch_op.create_unique_constraint({f(c['name'])}, {c['columns']!r})"
    if kind == "checks":
        return f"batch_op.create_check_constraint({f(c['name'])}, sa.text({c['sql']!r}))"
    return (f"batch_op.create_foreign_key({f(c['name'])}, {c['referred_table']!r}, {c['columns']!r}, "
            f"{c['referred_columns']!r}, ondelete={c['ondelete']!r})")


def rename_constraint(table: str, a: str, b: str) -> str:
    return f'ALTER TABLE "{table}" RENAME CONSTRAINT "{a}" TO "{b}"'


# A trigger that refuses UPDATE (the audit log's append-only guard), from a support table's ``ddl``.
_UPDATE_TRIGGER = re.compile(r"CREATE TRIGGER (\w+) BEFORE UPDATE\b")
# Columns whose values start with "<Entity>:" (the pending-approval key of the generated workflow.py).
_ENTITY_KEYS = {"workflow_approvals": ("pending_key",)}


def relabel(t: dict[str, Any], renames: list[tuple[str, str]]) -> list[str]:
    """UPDATEs giving the rows of support table ``t`` that name an entity (``entity`` column) its new name.

    The audit log, approvals and notifications find a record's rows by entity name, so a renamed
    entity's history, pending approvals and notifications must follow it. An append-only table's
    UPDATE triggers (from its ``ddl``) are lifted around the statements and restored: all in the
    migration's transaction, so nothing else can change a row meanwhile and a failure restores them.
    """
    name = t["name"]
    columns = {c["name"] for c in t["columns"]}
    lines = []
    for old, new in renames:
        sets, params = ["entity = :new"], {"old": old, "new": new}
        for key in _ENTITY_KEYS.get(name, ()):
            if key in columns:  # "<old>:rest" -> "<new>:rest" (NULL stays NULL)
                sets.append(f"{key} = :prefix || SUBSTR({key}, {len(old) + 2})")
                params["prefix"] = new + ":"
        sql = f"UPDATE {name} SET {', '.join(sets)} WHERE entity = :old"
        lines.append(f"op.execute(sa.text({sql!r}).bindparams({', '.join(f'{k}={v!r}' for k, v in params.items())}))")
    off, on = [], []
    for dialect, statement in t.get("ddl") or ():
        match = _UPDATE_TRIGGER.match(statement)
        if match is None or dialect not in ("postgresql", "sqlite"):
            continue
        trigger = match.group(1)
        if dialect == "postgresql":
            stop, restore = (f'ALTER TABLE "{name}" DISABLE TRIGGER "{trigger}"',
                             f'ALTER TABLE "{name}" ENABLE TRIGGER "{trigger}"')
        else:
            stop, restore = f'DROP TRIGGER "{trigger}"', statement
        off.append(f"if op.get_context().dialect.name == {dialect!r}:\n    op.execute({stop!r})")
        on.append(f"if op.get_context().dialect.name == {dialect!r}:\n    op.execute({restore!r})")
    if off:
        off[0] = f"# {name} is append-only: its guard is lifted for this relabelling only\n" + off[0]
    return off + lines + on


def sqlite_ddl_again(t: dict[str, Any]) -> list[str]:
    """The table's SQLite triggers (its ``ddl``), created again if a batch block's copy of the table dropped
    them: SQLite drops a table's triggers with it, so the copy would leave the audit log unguarded."""
    return [f"if op.get_context().dialect.name == 'sqlite':  # the table copy dropped its triggers\n"
            f"    op.execute({sql.replace('CREATE TRIGGER ', 'CREATE TRIGGER IF NOT EXISTS ', 1)!r})"
            for dialect, sql in t.get("ddl") or () if dialect == "sqlite" and sql.startswith("CREATE TRIGGER ")]


def batch(table: str, ops: list[str]) -> str:
    body = "\n".join("    " + line.replace("\n", "\n    ") for line in ops)
    return f"with op.batch_alter_table({table!r}) as batch_op:\n{body}"


def fill(imports: set[str], table: str, c: dict[str, Any]) -> str:
    """An UPDATE giving rows without a value the field's default (an automatic time: the database's clock)."""
    how = c["fill"]
    if "sql" in how:
        value = "sa.func.now()" if how["sql"] == "now" else "sa.func.current_date()"
    else:
        value = _literal(imports, how["py_type"], how["value"])
    col = c["name"]
    return (f"op.execute(sa.table({table!r}, sa.column({col!r}, {_sa(c['type'])})).update()"
            f".where(sa.column({col!r}).is_(None)).values({{{col!r}: {value}}}))")


def _literal(imports: set[str], py_type: str, value: Any) -> str:
    if py_type == "decimal.Decimal":
        imports.add("decimal")
        return f"decimal.Decimal({str(value)!r})"
    if py_type in ("datetime.date", "datetime.datetime"):
        imports.add("datetime")
        return f"{py_type}.fromisoformat({value!r})"
    if py_type == "uuid.UUID":
        imports.add("uuid")
        return f"uuid.UUID({value!r})"
    return repr(value)


_STRING = re.compile(r"String\((\d+)\)\Z")
_NUMERIC = re.compile(r"Numeric\((\d+), (\d+)")
_INTEGERS = ["Integer()", "BigInteger()"]


def narrows(old: str, new: str) -> bool:
    """Whether a value of type ``old`` may not fit ``new`` (a change that can lose data)."""
    a, b = _STRING.match(old), _STRING.match(new)
    if a and b:
        return int(b.group(1)) < int(a.group(1))
    if a and new == "Text()":
        return False
    a, b = _NUMERIC.match(old), _NUMERIC.match(new)
    if a and b:
        (p1, s1), (p2, s2) = (int(a.group(1)), int(a.group(2))), (int(b.group(1)), int(b.group(2)))
        return s2 < s1 or p2 - s2 < p1 - s1
    if old in _INTEGERS and new in _INTEGERS:
        return _INTEGERS.index(new) < _INTEGERS.index(old)
    return True


def f(name: str) -> str:
    return f"op.f({name!r})"


def args(names) -> str:
    return ", ".join(repr(n) for n in names)
