"""Compile a type-checked expression into Python source: a SQLAlchemy filter or a plain predicate.

Semantics, the same in both targets (tests/test_compile_reference.py is an
independent interpreter of them; docs/spec-language.md#expressions should say the same):

* Every condition is two-valued. A comparison involving null is false, except
  ``==``/``!=``, which treat null as a value: ``null == null`` is true and
  ``record.assignee != user`` is true when the task is unassigned. In SQL that
  is ``IS [NOT] DISTINCT FROM`` where a side may be NULL (or a plain ``IS
  NULL`` test against ``null``); a condition that may come out NULL in SQL is
  wrapped in ``coalesce(..., false)`` wherever NULL and false would differ
  (under ``not``, or when a condition is compared as a value).
* A path through a missing value is null (``user.role`` for an anonymous
  request); a to-many path is a list that never contains null; ``sum`` of an
  empty list is 0, ``min``/``max`` of one is null.
* ``user`` and ``input`` are known when the query is built, so whatever
  depends only on them is decided in Python (``user.role == 'admin'`` becomes
  ``sa.true()`` or ``sa.false()``), and a comparison with a value that may be
  missing is split in Python: ``(Task.assignee_id == user.id if user is not
  None else Task.assignee_id.is_(None))``, so SQL never sees ``= NULL``.
* ``today()``/``now()`` are ``_today()``/``_utcnow()``: the current UTC date and
  time taken in Python when the query is built, never the database clock, so
  SQLite and PostgreSQL agree and tests can freeze time.
* Date arithmetic is done in Python: ``record.due_date + days(3) < today()``
  becomes ``Task.due_date < _today() - datetime.timedelta(days=3)`` (and
  ``record.due_date - today() > 2`` likewise), because SQLite and PostgreSQL
  share no date arithmetic. Arithmetic on two date columns is refused.
* Paths through relations become correlated ``EXISTS`` or scalar subqueries;
  nothing is loaded into Python. Soft-deleted rows are not part of a to-many
  relation (a ref to a soft-deleted record still reaches it). A model that already appears in the query is
  re-joined through ``sa.orm.aliased``, declared by wrapping the expression in
  ``(lambda alias: ...)(sa.orm.aliased(Model, name="alias"))``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Callable, Mapping

from generator.compile.errors import NotCompilable
from generator.compile.fragments import (
    ADD, ATOM, CMP, EMPTY, FALSE, MUL, NEG, NOT, NULL, OR, TRUE,
    Code, DayDiff, Frag, Lst, Py, Shift, Sql, _Empty, _Null,
    all_not_none, any_none, checks, conditional, flat_terms, is_py, merge, py_and, py_cond, py_value,
)  # fmt: skip
from generator.compile.schema import Schema, identifier
from generator.expr.nodes import Binary, Call, Expr, ListLiteral, Literal, Path, Unary
from generator.expr.types import EntityType, FieldInfo, Type
from generator.expr.typerules import scalar_name
from generator.expr.unparse import unparse
from generator.ir.nodes import AppIR

__all__ = ["Computed", "compile_python", "compile_sql"]

_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
_ORDERING = ("<", "<=", ">", ">=")
_TEMPORAL = ("date", "datetime", "duration")


@dataclass(frozen=True)
class Computed:
    """A computed field's parsed expression and its types (from ``check``), inlined where it is used."""

    expr: Expr
    types: Mapping[int, Type]


@dataclass(frozen=True, slots=True)
class _Anchor:
    """Where a path has got to: an entity, known by its id, maybe with a row or a Python object."""

    entity: str | None
    ident: Py | Sql  # the entity's id
    row: str | None = None  # a model class or alias whose columns are readable inside ``conds``
    obj: str | None = None  # a Python object with the entity's column attributes (``user``, ``record``)
    conds: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    joined: tuple[str, ...] = ()
    scope: frozenset[str] = frozenset()  # FROM names visible here: aliases avoid them
    many: bool = False
    nullable: bool = False  # a ref on the way may be null, so there may be no such record


def _exists(conds: tuple[str, ...]) -> Code:
    return Code(f"sa.exists().where({', '.join(conds)})")


def _not(code: Code) -> Code:
    return Code(f"sa.not_({code.text})")


def _constant(value: bool) -> Py:
    return TRUE if value else FALSE


class _Compiler:
    def __init__(self, ir: AppIR, types: Mapping[int, Type], *, sql: bool, entity: str | None,
                 user_entity: str | None, input_fields: Mapping[str, FieldInfo] | None,
                 computed: Mapping[tuple[str, str], Computed] | None) -> None:  # fmt: skip
        self.schema = Schema(ir)
        self.computed = dict(computed or {})
        self.types: dict[int, Type] = dict(types)
        for c in self.computed.values():
            self.types.update(c.types)
        self.sql = sql
        self.user_entity = user_entity
        self.input_fields = input_fields
        self.aliases: list[tuple[str, str]] = []
        self.taken = self.schema.reserved()
        self.inlining: list[tuple[str, str]] = []
        self.base_scope: frozenset[str] = frozenset()
        self.record: _Anchor | None = None
        if entity is not None:
            outer = self.schema.class_name(entity)
            if sql:
                self.base_scope = frozenset({outer})
                self.record = _Anchor(entity, Sql(Code(f"{outer}.id"), False), row=outer, scope=self.base_scope)
            else:
                self.record = _Anchor(entity, Py(Code("record.id")), obj="record")

    # -- helpers -------------------------------------------------------------------
    def type_of(self, node: Expr) -> Type:
        try:
            return self.types[id(node)]
        except KeyError:
            raise ValueError(f"`{unparse(node)}` has no type: pass the types returned by check()") from None

    def scalar_of(self, node: Expr) -> str | None:
        return scalar_name(self.type_of(node))

    def need_db(self, node: Expr, what: str) -> None:
        if not self.sql:
            raise NotCompilable(f"`{unparse(node)}` {what}, which needs the database: use to_sql",
                                node.start, node.end)  # fmt: skip

    def fresh(self, base: str) -> str:
        n = 2
        while f"{base}_{n}" in self.taken:
            n += 1
        name = identifier(f"{base}_{n}")
        self.taken.add(name)
        return name

    def join_model(self, entity: str, scope: frozenset[str]) -> str:
        cls = self.schema.class_name(entity)
        if cls not in scope:
            return cls
        alias = self.fresh(identifier(self.schema.entity(entity).module))
        self.aliases.append((alias, f"sa.orm.aliased({cls}, name={alias!r})"))
        return alias

    def join_table(self, table: str, scope: frozenset[str]) -> str:
        if table not in scope:
            return table
        alias = self.fresh(table)
        self.aliases.append((alias, f"{table}.alias({alias!r})"))
        return alias

    # -- paths -----------------------------------------------------------------------
    def path(self, node: Path, record: _Anchor | None) -> Frag:
        start = 0
        cur: _Anchor | Frag
        if node.root == "record":
            if record is None:
                raise ValueError("`record` is not available: pass the entity")
            cur = record
        elif node.root == "user":
            cur = _Anchor(self.user_entity, Py(Code("user.id"), guards=("user",)), obj="user", guards=("user",),
                          scope=self.base_scope)  # fmt: skip
        elif node.root == "input":
            cur, start = self.input_start(node), 1
        else:
            raise ValueError(f"unknown root {node.root!r}")
        for name in node.fields[start:]:
            if not isinstance(cur, _Anchor) or cur.entity is None:
                raise ValueError(f"cannot follow `{unparse(node)}`: check the expression and pass user_entity")
            cur = self.step(cur, name, node)
        return self.value_of(cur) if isinstance(cur, _Anchor) else cur

    def input_start(self, node: Path) -> _Anchor | Frag:
        name = node.fields[0]
        info = (self.input_fields or {}).get(name)
        if info is not None:
            kind, target, nullable = info.kind, info.target, info.nullable
        else:
            t = self.types.get(id(node)) if len(node.fields) == 1 else None
            if t is None:
                raise ValueError(f"`{unparse(node)}`: pass input_fields to compile paths through the input")
            kind = "ref" if isinstance(t, EntityType) else "scalar"
            target, nullable = getattr(t, "name", None), bool(getattr(t, "nullable", False))
        code = Code(f"input.{identifier(name)}")
        if kind == "ref":
            return _Anchor(target, Py(code, nullable=nullable), scope=self.base_scope)
        if kind != "scalar":
            raise NotCompilable(f"`input.{name}` is a list of records, which expressions cannot use", node.start,
                                node.end)  # fmt: skip
        return Py(code, nullable=nullable)

    def value_of(self, a: _Anchor) -> Frag:
        """The entity an anchor points at, as a value: its id."""
        if a.many:
            return Lst(a.ident.code, a.conds, a.guards, a.joined)
        if isinstance(a.ident, Py):
            return Py(a.ident.code, merge(a.guards, a.ident.guards), a.ident.nullable)
        return Sql(a.ident.code, a.nullable or a.ident.nullable, conds=a.conds, guards=a.guards, joined=a.joined)

    def ident_text(self, a: _Anchor) -> tuple[str, tuple[str, ...]]:
        """The anchor's id as an operand inside SQL, and the guards that make it non-null."""
        if isinstance(a.ident, Py):
            return a.ident.code.at(CMP + 1), merge(a.guards, checks(a.ident))
        return a.ident.code.at(CMP + 1), a.guards

    def with_row(self, a: _Anchor, node: Path) -> _Anchor:
        """Join the anchor's entity so its columns can be read (inside the subquery)."""
        if a.row is not None:
            return a
        self.need_db(node, "reads a related record")
        text, guards = self.ident_text(a)
        assert a.entity is not None
        row = self.join_model(a.entity, a.scope)
        return replace(a, row=row, obj=None, ident=Sql(Code(f"{row}.id"), False), guards=guards,
                       conds=a.conds + (f"{row}.id == {text}",), joined=a.joined + (row,), scope=a.scope | {row})

    def live(self, a: _Anchor) -> _Anchor:
        """Soft-deleted rows are not part of a to-many relation."""
        if a.entity is None or not self.schema.entity(a.entity).soft_delete:
            return a
        return replace(a, conds=a.conds + (f"{a.row}.deleted_at.is_(None)",))

    def step(self, a: _Anchor, name: str, node: Path) -> _Anchor | Frag:
        assert a.entity is not None
        column = self.schema.column(a.entity, name)
        if column is not None:
            attr = identifier(column.name)
            if a.obj is not None:
                return Py(Code(f"{a.obj}.{attr}"), guards=a.guards, nullable=column.nullable)
            a = self.with_row(a, node)
            code = Code(f"{a.row}.{attr}")
            if a.many:
                return Lst(code, a.conds, a.guards, a.joined)
            return Sql(code, a.nullable or column.nullable, conds=a.conds, guards=a.guards, joined=a.joined)
        rel = self.schema.relation(a.entity, name)
        if rel is None:
            return self.computed_field(a, name, node)
        if rel.kind == "many_to_one":
            fk = self.schema.fk_column(a.entity, rel)
            attr = identifier(fk.name)
            if a.obj is not None:
                ident = Py(Code(f"{a.obj}.{attr}"), guards=a.guards, nullable=fk.nullable)
                return _Anchor(rel.target, ident, guards=a.guards, scope=a.scope)
            a = self.with_row(a, node)
            return replace(a, entity=rel.target, ident=Sql(Code(f"{a.row}.{attr}"), fk.nullable), row=None,
                           nullable=a.nullable or fk.nullable)
        self.need_db(node, f"follows the to-many relation `{name}`")
        text, guards = self.ident_text(a)
        if rel.kind == "one_to_many":
            row = self.join_model(rel.target, a.scope)
            cond = f"{row}.{self.schema.back_reference(rel)} == {text}"
            return self.live(_Anchor(rel.target, Sql(Code(f"{row}.id"), False), row=row, conds=a.conds + (cond,),
                                     guards=guards, joined=a.joined + (row,), scope=a.scope | {row}, many=True))
        sides = self.schema.link(rel)
        table = self.join_table(sides.table, a.scope)
        b = _Anchor(rel.target, Sql(Code(f"{table}.c.{sides.other}"), False),
                    conds=a.conds + (f"{table}.c.{sides.this} == {text}",), guards=guards,
                    joined=a.joined + (table,), scope=a.scope | {table}, many=True)  # fmt: skip
        if self.schema.entity(rel.target).soft_delete:
            b = self.live(self.with_row(b, node))
        return b

    def computed_field(self, a: _Anchor, name: str, node: Path) -> Frag:
        key = (a.entity or "", name)
        c = self.computed.get(key)
        if c is None:
            raise NotCompilable(f"`{a.entity}.{name}` is not a stored field and no computed expression was given "
                                "for it (pass computed=)", node.start, node.end)  # fmt: skip
        if a.many:
            raise NotCompilable(f"the computed field `{name}` cannot be read through a to-many relation",
                                node.start, node.end)  # fmt: skip
        if key in self.inlining:
            raise NotCompilable(f"the computed field `{a.entity}.{name}` depends on itself", node.start, node.end)
        if a.obj is None and a.row is None:
            a = self.with_row(a, node)
        self.inlining.append(key)
        try:
            return self.expr(c.expr, a)
        finally:
            self.inlining.pop()

    # -- the walk ----------------------------------------------------------------------
    def expr(self, node: Expr, record: _Anchor | None) -> Frag:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Path):
            return self.path(node, record)
        if isinstance(node, Call):
            return self.call(node, record)
        if isinstance(node, Unary):
            return self.unary(node, record)
        if isinstance(node, Binary):
            return self.binary(node, record)
        raise NotCompilable("a list literal can only follow `in`", node.start, node.end)

    def literal(self, node: Literal) -> Frag:
        if node.kind == "null":
            return NULL
        if node.kind == "bool":
            return _constant(bool(node.value))
        if node.kind == "int":
            return Py(Code(str(node.value)))
        if node.kind == "decimal":
            return Py(Code(f"decimal.Decimal({str(node.value)!r})"))
        if node.kind == "string":
            return Py(Code(repr(str(node.value))))
        raise ValueError(f"unknown literal kind {node.kind!r}")

    def unary(self, node: Unary, record: _Anchor | None) -> Frag:
        f = self.expr(node.operand, record)
        if node.op == "not":
            if is_py(f):
                return Py(Code(f"not {py_cond(f).at(CMP + 1)}", NOT), cond=True)
            s = self.sql_cond(f)
            inner = Code(f"sa.func.coalesce({s.code.text}, sa.false())") if s.nullable else s.code
            return Sql(_not(inner), False, cond=True)
        return self.apply([f], self._negate, boolean=False)

    def _negate(self, x: Frag) -> Frag:
        if x is NULL:
            return NULL
        if isinstance(x, Py):
            return Py(Code(f"-{x.code.at(NEG)}", NEG), guards=checks(x))
        code, nullable = self.operand(x)
        return Sql(Code(f"-{code.at(NEG)}", NEG), nullable)

    def binary(self, node: Binary, record: _Anchor | None) -> Frag:
        op = node.op
        if op in ("and", "or"):
            return self.combine(op, [self.expr(n, record) for n in _flatten(node, op)])
        if op in ("in", "not in"):
            return self.membership(node, record)
        left, right = self.expr(node.left, record), self.expr(node.right, record)
        if op in _FLIP:
            return self.compare(op, left, right)
        names = (self.scalar_of(node.left), self.scalar_of(node.right))
        return self.apply([left, right], partial(self._arith, op, names), boolean=False)

    # -- lifting values that may be missing -----------------------------------------------
    def apply(self, frags: list[Frag], build: Callable[..., Frag], boolean: bool) -> Frag:
        """``build`` over operands; where a Python value may be None, split on it in Python first.

        Pure-Python operands are built directly (with null checks inline). Otherwise
        each operand that may be missing is tested once, and ``build`` sees it either
        present (non-null) or as NULL / EMPTY, so no ``== None`` reaches SQLAlchemy.
        """
        if all(is_py(f) for f in frags):
            return build(*frags)
        for i, f in enumerate(frags):
            if isinstance(f, Py) and (f.guards or f.nullable):
                test, present, missing = all_not_none(checks(f)), Py(f.code, cond=f.cond), NULL
            elif isinstance(f, (Sql, Lst)) and f.guards:
                test, present = all_not_none(f.guards), replace(f, guards=())
                missing = EMPTY if isinstance(f, Lst) else NULL
            else:
                continue
            then = self.apply(frags[:i] + [present] + frags[i + 1:], build, boolean)
            otherwise = self.apply(frags[:i] + [missing] + frags[i + 1:], build, boolean)
            return self.branch(test, then, otherwise, boolean)
        return build(*frags)

    def branch(self, test: Code, then: Frag, otherwise: Frag, boolean: bool) -> Frag:
        if is_py(then) and is_py(otherwise):
            if boolean:
                yes, no = py_cond(then), py_cond(otherwise)
                if no.text == "False":
                    return Py(py_and([test, yes], "and"), cond=True)
                return Py(conditional(yes.at(OR), test, no.at(OR)), cond=True)
            return Py(conditional(py_value(then).at(OR), test, py_value(otherwise).at(OR)), nullable=True)
        if boolean:
            t, o = self.sql_cond(then), self.sql_cond(otherwise)
            return Sql(conditional(t.code.at(OR), test, o.code.at(OR)), t.nullable or o.nullable, cond=True)
        (tc, tn), (oc, on) = self.sql_value(then), self.sql_value(otherwise)
        return Sql(conditional(tc.at(OR), test, oc.at(OR)), tn or on)

    # -- turning fragments into SQLAlchemy source ------------------------------------------
    def sql_cond(self, f: Frag) -> Sql:
        """A condition usable in WHERE / and_ / or_ (SQL NULL there means false)."""
        if isinstance(f, (Py, _Null)):
            c = py_cond(f)
            if c.text in ("True", "False"):
                return Sql(Code(f"sa.{c.text.lower()}()"), False, cond=True)
            return Sql(conditional("sa.true()", c, "sa.false()"), False, cond=True)
        if isinstance(f, Sql):
            if f.guards:
                result = self.branch(all_not_none(f.guards), replace(f, guards=()), FALSE, True)
                assert isinstance(result, Sql)
                return result
            if f.conds:
                return Sql(_exists(f.conds + (f.code.text,)), False, cond=True)
            return f
        raise NotCompilable(_SHIFT_HELP if isinstance(f, (Shift, DayDiff)) else "a list is not a condition")

    def scalar(self, f: Sql) -> Sql:
        """A to-one path as a correlated scalar subquery (NULL when the chain is broken)."""
        return Sql(Code(f"sa.select({f.code.text}).where({', '.join(f.conds)}).scalar_subquery()"), True)

    def operand(self, f: Frag) -> tuple[Code, bool]:
        """A present value as an operand next to a SQL expression: (source, may be NULL)."""
        if isinstance(f, Py):
            if f.code.text in ("True", "False"):
                return Code(f"sa.{f.code.text.lower()}()"), False
            return f.code, False
        if isinstance(f, Sql):
            if f.conds:
                s = self.scalar(f)
                return s.code, True
            if f.cond and f.nullable:
                return Code(f"sa.func.coalesce({f.code.text}, sa.false())"), False
            return f.code, f.nullable
        if isinstance(f, (Shift, DayDiff)):
            raise NotCompilable(_SHIFT_HELP)
        if f is NULL:
            return Code("sa.null()"), True
        raise ValueError("a list is not a value")

    def sql_value(self, f: Frag) -> tuple[Code, bool]:
        """A complete SQLAlchemy expression for a value (never a bare Python value)."""
        if isinstance(f, Py):
            if f.code.text in ("True", "False"):
                return Code(f"sa.{f.code.text.lower()}()"), False
            return Code(f"sa.literal({py_value(f).text})"), bool(checks(f))
        if isinstance(f, Sql) and f.guards:
            s = self.branch(all_not_none(f.guards), replace(f, guards=()), NULL, False)
            return self.sql_value(s)
        return self.operand(f)

    # -- logic and comparison ------------------------------------------------------------
    def combine(self, op: str, frags: list[Frag]) -> Frag:
        known = [py_cond(f) for f in frags if is_py(f)]
        if len(known) == len(frags):
            return Py(py_and(known, op), cond=True)
        parts = [self.sql_cond(f) for f in frags]
        fn = "sa.and_" if op == "and" else "sa.or_"
        neutral, absorbing = ("sa.true()", "sa.false()") if op == "and" else ("sa.false()", "sa.true()")
        nullable = any(p.nullable for p in parts)
        terms = flat_terms([p.code for p in parts], fn, neutral, absorbing)
        if terms is None:
            return Sql(Code(absorbing), False, cond=True)
        if len(terms) <= 1:
            return Sql(terms[0] if terms else Code(neutral), nullable, cond=True)
        return Sql(Code(f"{fn}({', '.join(t.text for t in terms)})", op=fn, terms=tuple(terms)), nullable, cond=True)

    def compare(self, op: str, left: Frag, right: Frag) -> Frag:
        return self.apply([left, right], partial(self._compare, op), boolean=True)

    def _compare(self, op: str, x: Frag, y: Frag) -> Frag:
        if is_py(x) and is_py(y):
            return _py_compare(op, x, y)
        if isinstance(x, (Shift, DayDiff)) or isinstance(y, (Shift, DayDiff)):
            return self._shift_compare(op, x, y)
        if op in ("==", "!=") and (x in (TRUE, FALSE) or y in (TRUE, FALSE)):
            known = self._against_constant(op, x, y)
            if known is not None:
                return known
        if is_py(x):  # keep the SQL side on the left: Task.due_date < _today()
            x, y, op = y, x, _FLIP[op]
        assert isinstance(x, Sql)
        if y is NULL:
            return FALSE if op in _ORDERING else self.null_test(x, op == "==")
        if isinstance(y, Sql) and y.conds:
            if x.conds:
                y = self.scalar(y)
            else:
                x, y, op = y, x, _FLIP[op]
        if x.conds:
            if self.operand(y)[1]:  # the other side may be NULL: compare values, null-safely
                return self._direct(op, self.scalar(x), y)
            inner = self._direct("==" if op == "!=" else op, replace(x, conds=(), joined=()), y)
            found = _exists(x.conds + (inner.code.text,))
            return Sql(_not(found) if op == "!=" else found, False, cond=True)
        return self._direct(op, x, y)

    def _direct(self, op: str, x: Sql, y: Frag) -> Sql:
        (xc, xn), (yc, yn) = self.operand(x), self.operand(y)
        if op == "==" and xn and yn:
            return Sql(Code(f"{xc.at(ATOM)}.is_not_distinct_from({yc.text})"), False, cond=True)
        if op == "!=" and (xn or yn):
            return Sql(Code(f"{xc.at(ATOM)}.is_distinct_from({yc.text})"), False, cond=True)
        nullable = (xn or yn) and op != "!="
        return Sql(Code(f"{xc.at(CMP + 1)} {op} {yc.at(CMP + 1)}", CMP), nullable, cond=True)

    def null_test(self, x: Sql, is_null: bool) -> Frag:
        if x.cond:
            return _constant(not is_null)  # a condition is true or false, never null
        if not x.nullable:
            return _constant(not is_null)
        if x.conds:
            found = _exists(x.conds + (f"{x.code.at(ATOM)}.is_not(None)",))
            return Sql(_not(found) if is_null else found, False, cond=True)
        return Sql(Code(f"{x.code.at(ATOM)}.{'is_' if is_null else 'is_not'}(None)"), False, cond=True)

    def _against_constant(self, op: str, x: Frag, y: Frag) -> Frag | None:
        """``cond == true`` is ``cond``; ``cond == false`` is ``not cond`` (for two-valued conditions)."""
        constant, other = (x, y) if x in (TRUE, FALSE) else (y, x)
        if not isinstance(other, Sql) or other.conds or not (other.cond or not other.nullable):
            return None
        s = self.sql_cond(other)
        if (constant == TRUE) == (op == "=="):
            return s
        return Sql(_not(Code(f"sa.func.coalesce({s.code.text}, sa.false())") if s.nullable else s.code), False,
                   cond=True)  # fmt: skip

    def _shift_compare(self, op: str, x: Frag, y: Frag) -> Frag:
        """``column + days(n) < value`` is compiled as ``column < value - days(n)``;
        ``column - value > n`` (days between dates) as ``column > value + days(n)``."""
        if isinstance(x, DayDiff) and isinstance(y, Py):
            return self._compare(*_day_diff_bound(op, x, y))
        if isinstance(y, DayDiff) and isinstance(x, Py):
            return self._compare(*_day_diff_bound(_FLIP[op], y, x))
        if isinstance(x, DayDiff) and y is NULL:
            return self._compare(op, x.base, NULL)
        if isinstance(y, DayDiff) and x is NULL:
            return self._compare(op, NULL, y.base)
        if isinstance(x, Shift) and is_py(y):
            moved = _py_arith("-", y, x.delta) if isinstance(y, Py) else y
            return self._compare(op, x.base, moved)
        if isinstance(y, Shift) and is_py(x):
            moved = _py_arith("-", x, y.delta) if isinstance(x, Py) else x
            return self._compare(op, moved, y.base)
        raise NotCompilable(_SHIFT_HELP)

    # -- membership ----------------------------------------------------------------------
    def membership(self, node: Binary, record: _Anchor | None) -> Frag:
        negate = node.op == "not in"
        left = self.expr(node.left, record)
        if isinstance(node.right, ListLiteral):
            items = [self.expr(i, record) for i in node.right.items]
            known = [i for i in items if is_py(i)]
            if len(known) == len(items) and is_py(left):
                return _py_in(left, known, negate)
            if all(i is NULL or (isinstance(i, Py) and not checks(i)) for i in items):
                values = [i.code.text for i in items if isinstance(i, Py)]
                has_null = any(i is NULL for i in items)
                return self.apply([left], partial(self._in_values, values, has_null, negate), boolean=True)
            parts = [self.compare("!=" if negate else "==", left, i) for i in items]
            return self.combine("and" if negate else "or", parts) if parts else _constant(negate)
        right = self.expr(node.right, record)
        return self.apply([left, right], partial(self._member, negate), boolean=True)

    def _in_values(self, values: list[str], has_null: bool, negate: bool, x: Frag) -> Frag:
        if x is NULL:
            return _constant(has_null != negate)
        if isinstance(x, Py):
            found = Py(Code(f"{x.code.at(CMP + 1)} in {_tuple(values)}", CMP), cond=True) if values else FALSE
            return Py(Code(f"not {found.code.at(CMP + 1)}", NOT), cond=True) if negate else found
        if not isinstance(x, Sql):
            raise NotCompilable(_SHIFT_HELP)
        if x.conds and not has_null:
            inner = self._in_values(values, False, False, replace(x, conds=(), joined=()))
            found = _exists(x.conds + (self.sql_cond(inner).code.text,))
            return Sql(_not(found) if negate else found, False, cond=True)
        if x.conds:
            x = self.scalar(x)
        code, nullable = self.operand(x)
        if not values:
            return self.null_test(Sql(code, nullable), not negate) if has_null else _constant(negate)
        listing = f"[{', '.join(values)}]"
        if not negate:
            found = Code(f"{code.at(ATOM)}.in_({listing})")
            if has_null and nullable:
                return Sql(Code(f"sa.or_({code.at(ATOM)}.is_(None), {found.text})"), False, cond=True)
            return Sql(found, nullable, cond=True)
        missing = Code(f"{code.at(ATOM)}.not_in({listing})")
        if not nullable:
            return Sql(missing, False, cond=True)
        if has_null:
            return Sql(Code(f"sa.and_({code.at(ATOM)}.is_not(None), {missing.text})"), False, cond=True)
        return Sql(Code(f"sa.or_({code.at(ATOM)}.is_(None), {missing.text})"), False, cond=True)

    def _member(self, negate: bool, x: Frag, items: Frag) -> Frag:
        if items is EMPTY or x is NULL:
            return _constant(negate)
        if not isinstance(items, Lst):
            raise ValueError("the right side of `in` must be a list")
        if isinstance(x, Py):
            code, conds = x.code, items.conds
        elif isinstance(x, Sql):
            if x.conds and set(x.joined) & set(items.joined):
                x = self.scalar(x)
            code, conds = (x.code, x.conds + items.conds) if x.conds else (self.operand(x)[0], items.conds)
        else:
            raise NotCompilable(_SHIFT_HELP)
        found = _exists(conds + (f"{items.item.at(CMP + 1)} == {code.at(CMP + 1)}",))
        return Sql(_not(found) if negate else found, False, cond=True)

    # -- arithmetic and functions ---------------------------------------------------------
    def _arith(self, op: str, names: tuple[str | None, str | None], x: Frag, y: Frag) -> Frag:
        if x is NULL or y is NULL:
            return NULL
        if isinstance(x, Py) and isinstance(y, Py):
            if op == "-" and names == ("date", "date"):
                return Py(Code(f"({x.code.at(ADD)} - {y.code.at(MUL)}).days"), guards=merge(checks(x), checks(y)))
            return _py_arith(op, x, y)
        left, right = names
        if op == "-" and names == ("date", "date"):
            if isinstance(x, Sql) and isinstance(y, Py):
                return DayDiff(x, y, 1)
            if isinstance(x, Py) and isinstance(y, Sql):
                return DayDiff(y, x, -1)
            raise NotCompilable(_SHIFT_HELP)
        if left in _TEMPORAL or right in _TEMPORAL:
            return self._shift(op, names, x, y)
        prec = ADD if op in ("+", "-") else MUL
        (xc, xn), (yc, yn) = self.operand(x), self.operand(y)
        return Sql(Code(f"{xc.at(prec)} {op} {yc.at(prec + 1)}", prec), xn or yn)

    def _shift(self, op: str, names: tuple[str | None, str | None], x: Frag, y: Frag) -> Frag:
        left, right = names
        if op in ("+", "-") and right == "duration" and isinstance(y, Py):
            if isinstance(x, Shift):
                return Shift(x.base, _py_arith(op, x.delta, y))
            if isinstance(x, Sql) and left in ("date", "datetime"):
                delta = y if op == "+" else Py(Code(f"-{y.code.at(NEG)}", NEG))
                return Shift(x, delta)
        if op == "+" and left == "duration" and isinstance(x, Py):
            if isinstance(y, Shift):
                return Shift(y.base, _py_arith("+", x, y.delta))
            if isinstance(y, Sql):
                return Shift(y, x)
        raise NotCompilable(_SHIFT_HELP)

    def call(self, node: Call, record: _Anchor | None) -> Frag:
        name = node.name
        if name == "today":
            return Py(Code("_today()"))
        if name == "now":
            return Py(Code("_utcnow()"))
        if name in ("sum", "count", "min", "max"):
            if isinstance(node.args[0], ListLiteral):
                raise NotCompilable(f"`{name}()` applies to a path such as record.lines.amount", node.start, node.end)
            arg = self.expr(node.args[0], record)
            if is_py(arg):
                raise ValueError(f"`{unparse(node)}` does not aggregate a list")
            return self.apply([arg], partial(self._aggregate, name), boolean=False)
        args = [self.expr(a, record) for a in node.args]
        builders = {"days": self._days, "len": partial(self._function, "len"),
                    "lower": partial(self._function, "lower"), "coalesce": self._coalesce}  # fmt: skip
        if name not in builders:
            raise ValueError(f"unknown function {name!r}")
        return self.apply(args, builders[name], boolean=False)

    def _aggregate(self, name: str, items: Frag) -> Frag:
        if items is EMPTY:
            return Py(Code("0")) if name in ("count", "sum") else NULL
        assert isinstance(items, Lst)
        select = f"sa.select(sa.func.{name}({items.item.text})).where({', '.join(items.conds)}).scalar_subquery()"
        if name == "sum":
            return Sql(Code(f"sa.func.coalesce({select}, 0)"), False)
        return Sql(Code(select), name != "count")

    def _days(self, n: Frag) -> Frag:
        if n is NULL:
            return NULL
        if isinstance(n, Py):
            return Py(Code(f"datetime.timedelta(days={n.code.text})"), guards=checks(n))
        raise NotCompilable("`days()` of a database column has no portable SQL; compare the dates instead")

    def _function(self, name: str, x: Frag) -> Frag:
        if x is NULL:
            return NULL
        if isinstance(x, Py):
            code = Code(f"len({x.code.text})") if name == "len" else Code(f"{x.code.at(ATOM)}.lower()")
            return Py(code, guards=checks(x))
        code, nullable = self.operand(x)
        return Sql(Code(f"sa.func.{'length' if name == 'len' else 'lower'}({code.text})"), nullable)

    def _coalesce(self, a: Frag, b: Frag) -> Frag:
        if a is NULL:
            return b
        if is_py(a) and is_py(b):
            assert isinstance(a, Py)
            if not checks(a):
                return a
            other_nullable = not isinstance(b, Py) or bool(checks(b))
            return Py(conditional(a.code.at(OR), all_not_none(checks(a)), py_value(b).at(OR)), nullable=other_nullable)
        if isinstance(a, Py):
            return a  # present (the caller split on it)
        ac, an = self.operand(a)
        if not an or b is NULL:
            return Sql(ac, an)
        bc, bn = self.operand(b)
        return Sql(Code(f"sa.func.coalesce({ac.text}, {bc.text})"), bn)


_SHIFT_HELP = (
    "date arithmetic on a database column has no portable SQL (SQLite and PostgreSQL differ); "
    "keep the column alone on one side, e.g. `record.due_date < today() + days(3)`"
)


def _flatten(node: Expr, op: str) -> list[Expr]:
    if isinstance(node, Binary) and node.op == op:
        return _flatten(node.left, op) + _flatten(node.right, op)
    return [node]


def _tuple(values: list[str]) -> str:
    return f"({values[0]},)" if len(values) == 1 else f"({', '.join(values)})"


def _py_compare(op: str, x: Py | _Null, y: Py | _Null) -> Py:
    if x is NULL or y is NULL:
        other = y if x is NULL else x
        if op in _ORDERING:
            return FALSE  # ordering with null is false
        if other is NULL:
            return _constant(op == "==")
        assert isinstance(other, Py)
        return Py(any_none(checks(other)) if op == "==" else all_not_none(checks(other)), cond=True)
    assert isinstance(x, Py) and isinstance(y, Py)
    if op in ("==", "!=") and (x in (TRUE, FALSE) or y in (TRUE, FALSE)):
        constant, other = (x, y) if x in (TRUE, FALSE) else (y, x)
        if other.cond or not checks(other):  # a two-valued condition: `c == true` is `c`
            c = py_cond(other)
            return Py(c if (constant == TRUE) == (op == "==") else Code(f"not {c.at(CMP + 1)}", NOT), cond=True)
    cx, cy = checks(x), checks(y)
    core = Code(f"{x.code.at(CMP + 1)} {op} {y.code.at(CMP + 1)}", CMP)
    if op in ("==", "!="):
        if cx and cy:
            return Py(Code(f"{py_value(x).at(CMP + 1)} {op} {py_value(y).at(CMP + 1)}", CMP), cond=True)
        if op == "==":
            return Py(py_and([all_not_none(cx or cy), core], "and"), cond=True)
        return Py(py_and([any_none(cx or cy), core], "or"), cond=True)
    return Py(py_and([all_not_none(merge(cx, cy)), core], "and"), cond=True)


def _day_diff_bound(op: str, diff: DayDiff, n: Py) -> tuple[str, Frag, Frag]:
    """``base - origin <op> n`` as ``base <op> origin + days(n)``; ``origin - base <op> n`` as
    ``base <flipped op> origin - days(n)``."""
    days = Py(Code(f"datetime.timedelta(days={n.code.text})"))
    if diff.sign > 0:
        return op, diff.base, _py_arith("+", diff.origin, days)
    return _FLIP[op], diff.base, _py_arith("-", diff.origin, days)


def _py_arith(op: str, x: Py, y: Py) -> Py:
    guards = merge(checks(x), checks(y))
    if op == "/":
        return Py(Code(f"decimal.Decimal({x.code.text}) / {y.code.at(MUL + 1)}", MUL), guards=guards)
    prec = ADD if op in ("+", "-") else MUL
    return Py(Code(f"{x.code.at(prec)} {op} {y.code.at(prec + 1)}", prec), guards=guards)


def _py_in(x: Py | _Null, items: list[Py | _Null], negate: bool) -> Py:
    values = [py_value(i).text for i in items]
    if not values:
        return _constant(negate)
    listing = _tuple(values)
    word = "not in" if negate else "in"
    if x is NULL:
        return Py(Code(f"None {word} {listing}", CMP), cond=True)
    assert isinstance(x, Py)
    c = checks(x)
    core = Code(f"{x.code.at(CMP + 1)} {word} {listing}", CMP)
    if not c:
        return Py(core, cond=True)
    if any(not isinstance(i, Py) or checks(i) for i in items):
        return Py(Code(f"{py_value(x).at(CMP + 1)} {word} {listing}", CMP), cond=True)
    if negate:
        return Py(py_and([any_none(c), core], "or"), cond=True)
    return Py(py_and([all_not_none(c), core], "and"), cond=True)


def _boolean(t: Type) -> bool:
    return scalar_name(t) == "boolean"


def _with_aliases(text: str, aliases: list[tuple[str, str]]) -> str:
    if not aliases:
        return text
    names = ", ".join(name for name, _ in aliases)
    makers = ", ".join(make for _, make in aliases)
    return f"(lambda {names}: {text})({makers})"


def compile_sql(expr: Expr, types: Mapping[int, Type], ir: AppIR, entity: str, *, user_entity: str | None = None,
                input_fields: Mapping[str, FieldInfo] | None = None,
                computed: Mapping[tuple[str, str], Computed] | None = None, as_value: bool = False) -> str:  # fmt: skip
    c = _Compiler(ir, types, sql=True, entity=entity, user_entity=user_entity, input_fields=input_fields,
                  computed=computed)  # fmt: skip
    f = c.expr(expr, c.record)
    if _boolean(c.type_of(expr)):
        s = c.sql_cond(f)
        code = Code(f"sa.func.coalesce({s.code.text}, sa.false())") if as_value and s.nullable else s.code
    else:
        if isinstance(f, (Lst, _Empty)):
            raise NotCompilable("a list is not a single value", expr.start, expr.end)
        code = c.sql_value(f)[0]
    return _with_aliases(code.text, c.aliases)


def compile_python(expr: Expr, types: Mapping[int, Type], ir: AppIR, entity: str | None = None, *,
                   user_entity: str | None = None, input_fields: Mapping[str, FieldInfo] | None = None,
                   computed: Mapping[tuple[str, str], Computed] | None = None) -> str:  # fmt: skip
    c = _Compiler(ir, types, sql=False, entity=entity, user_entity=user_entity, input_fields=input_fields,
                  computed=computed)  # fmt: skip
    f = c.expr(expr, c.record)
    if not isinstance(f, (Py, _Null)):
        raise NotCompilable(f"`{unparse(expr)}` needs the database: use to_sql", expr.start, expr.end)
    if _boolean(c.type_of(expr)):
        return py_cond(f).text
    return py_value(f).text
