"""The pieces of Python source the compilers assemble, and how they compose.

A compiled sub-expression is one of:

* ``Py``: a value known when the query is built (``user.role``, ``_today()``,
  ``'done'``, ``input.assignee``). ``guards`` are Python expressions that must
  not be ``None`` for ``code`` to be evaluated at all (``user`` for
  ``user.role``); ``nullable`` says ``code`` itself may evaluate to ``None``.
  ``cond`` marks a two-valued condition (never ``None``).
* ``Sql``: a SQLAlchemy expression. With ``conds`` it lives inside a correlated
  subquery whose WHERE clause is ``conds`` (a to-one path such as
  ``record.project.owner``; no row means null). ``cond`` marks a condition,
  for which SQL NULL counts as false; ``nullable`` says it may be NULL.
* ``Lst``: a to-many path (``record.project.members``): ``item`` over the rows
  selected by ``conds``. Lists never contain null.
* ``Shift``: a SQL date plus a Python-side duration (``record.due_date +
  days(3)``); only a comparison with a Python value can use it, by moving the
  duration to the Python side (date arithmetic is not portable SQL).
* ``DayDiff``: the same for ``record.due_date - today()`` (a number of days).
* ``NULL`` and ``EMPTY``: the null value and the empty list.

``Code`` is source text with its precedence, so operators add parentheses only
where Python needs them (conditional expressions are always parenthesised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard, Union

# Python operator precedence, lowest first. Conditional expressions are emitted
# already wrapped in parentheses, so they are atoms.
OR, AND, NOT, CMP, ADD, MUL, NEG, ATOM = 1, 2, 3, 4, 6, 7, 8, 10


@dataclass(frozen=True, slots=True)
class Code:
    text: str
    prec: int = ATOM
    op: str = ""  # "and" / "or" (Python) or "sa.and_" / "sa.or_": ``terms`` are its operands, for flattening
    terms: tuple["Code", ...] = ()

    def at(self, least: int) -> str:
        """The text, parenthesised unless it binds at least as tightly as ``least``."""
        return self.text if self.prec >= least else f"({self.text})"


@dataclass(frozen=True, slots=True)
class Py:
    code: Code
    guards: tuple[str, ...] = ()
    nullable: bool = False
    cond: bool = False


@dataclass(frozen=True, slots=True)
class Sql:
    code: Code
    nullable: bool
    cond: bool = False
    conds: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    joined: tuple[str, ...] = ()  # FROM names the conds introduce (to keep merged subqueries unambiguous)


@dataclass(frozen=True, slots=True)
class Lst:
    item: Code
    conds: tuple[str, ...]
    guards: tuple[str, ...] = ()
    joined: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Shift:
    base: Sql
    delta: Py


@dataclass(frozen=True, slots=True)
class DayDiff:
    """``base - origin`` in days (``sign`` 1) or ``origin - base`` (``sign`` -1), ``base`` a SQL date:
    compared with a Python integer by moving ``origin`` to the Python side."""

    base: Sql
    origin: Py
    sign: int


@dataclass(frozen=True, slots=True)
class _Null:
    pass


@dataclass(frozen=True, slots=True)
class _Empty:
    pass


NULL = _Null()
EMPTY = _Empty()

Frag = Union[Py, Sql, Lst, Shift, DayDiff, _Null, _Empty]

TRUE = Py(Code("True"), cond=True)
FALSE = Py(Code("False"), cond=True)


def merge(*groups: tuple[str, ...]) -> tuple[str, ...]:
    """Concatenate guard or condition tuples, dropping repeats, keeping first order."""
    out: list[str] = []
    for group in groups:
        for item in group:
            if item not in out:
                out.append(item)
    return tuple(out)


def is_py(f: Frag) -> TypeGuard[Py | _Null]:
    return isinstance(f, (Py, _Null))


def conditional(then: str, test: Code, otherwise: str) -> Code:
    return Code(f"({then} if {test.at(OR)} else {otherwise})")


# -- Python-side values ---------------------------------------------------------


def checks(p: Py) -> tuple[str, ...]:
    """What must not be None for ``p`` to have a (non-null) value."""
    return merge(p.guards, (p.code.at(CMP + 1),) if p.nullable else ())


def all_not_none(names: tuple[str, ...]) -> Code:
    return py_and([Code(f"{n} is not None", CMP) for n in names], "and")


def any_none(names: tuple[str, ...]) -> Code:
    return py_and([Code(f"{n} is None", CMP) for n in names], "or")


def py_value(p: Py | _Null) -> Code:
    """Source that evaluates safely to the value, or None."""
    if isinstance(p, _Null):
        return Code("None")
    if not p.guards:
        return p.code
    return conditional(p.code.at(OR), all_not_none(p.guards), "None")


def py_cond(p: Py | _Null) -> Code:
    """Source of a two-valued condition: a null boolean counts as false."""
    if isinstance(p, _Null):
        return FALSE.code
    if p.cond and not p.guards:
        return p.code
    if not p.guards and not p.nullable:
        return p.code
    last = Code(f"{p.code.at(CMP + 1)} is True", CMP) if p.nullable else p.code
    return py_and([all_not_none(p.guards), last], "and")


def flat_terms(parts: list[Code], op: str, neutral: str, absorbing: str) -> list[Code] | None:
    """Operands of an and/or chain, flattened and without repeats; None if one absorbs the rest."""
    kept: list[Code] = []
    for part in parts:
        for term in part.terms if part.op == op else (part,):
            if term.text == absorbing:
                return None
            if term.text != neutral and all(term.text != k.text for k in kept):
                kept.append(term)
    return kept


def _opposite(text: str) -> str | None:
    if text.endswith(" is not None"):
        return text[: -len(" is not None")] + " is None"
    if text.endswith(" is None"):
        return text[: -len(" is None")] + " is not None"
    return None


def _assuming(kept: list[Code], op: str) -> list[Code]:
    """Drop null checks a short-circuit already settled: in ``x is None or (x is not None and
    x > 1)`` the second ``x is not None`` is known to hold (and dually for ``and``)."""
    inner = "and" if op == "or" else "or"
    out: list[Code] = []
    known: set[str] = set()  # facts that hold when a later operand is evaluated
    for term in kept:
        if term.op == inner and known:
            # in `or`, a later operand runs only if earlier ones were false: their opposites hold
            drop = known if op == "or" else {o for o in (_opposite(k) for k in known) if o}
            useless = [t for t in term.terms if t.text in drop]
            if useless:
                term = py_and([t for t in term.terms if t.text not in drop], inner)
        opposite = _opposite(term.text)
        if opposite is not None:
            known.add(opposite if op == "or" else term.text)
        out.append(term)
    return out


def py_and(parts: list[Code], op: str) -> Code:
    """``a and b`` / ``a or b`` over conditions, flattened, without repeats or neutral constants."""
    neutral, absorbing = ("True", "False") if op == "and" else ("False", "True")
    kept = flat_terms(parts, op, neutral, absorbing)
    kept = None if kept is None else flat_terms(_assuming(kept, op), op, neutral, absorbing)
    if kept is None:
        return Code(absorbing)
    if not kept:
        return Code(neutral)
    if len(kept) == 1:
        return kept[0]
    return Code(f" {op} ".join(k.at(NOT) for k in kept), AND if op == "and" else OR, op, tuple(kept))
