"""Is a rule wider or narrower than before? A sound, structural answer.

Deciding whether one boolean expression implies another is undecidable in general
(the expressions follow relations and compare computed values), so Keel answers
only when the structure proves it, and says "changed" otherwise:

1. An expression is put in disjunctive normal form: a set of alternatives, each a
   set of atoms that must all hold. ``and``/``or``/``not`` are expanded (De Morgan;
   ``not (a == b)`` is ``a != b``), ``x in [l1, l2]`` over literals is ``x == l1 or
   x == l2``, ``true``/``false`` are the empty conjunction/disjunction, and an atom
   is any other sub-expression in canonical text (``a == b`` and ``b == a`` are one
   atom). ``user != null`` is the atom "signed in", and ``user == x``, ``user.f == x``
   and ``user in x`` (false for anonymous requests) carry it too.
2. P implies Q when every alternative of P contains all the atoms of some
   alternative of Q (it is at least as strict as one of Q's). This is sound (never
   claims an implication that does not hold) and complete for expressions built of
   the same atoms; it does not know that ``a < 5`` implies ``a < 10``.
3. old implies new and new implies old: the same. Only old implies new: widened.
   Only new implies old: narrowed. Neither: changed (direction unknown).

A permission is "some allow rule holds and no deny rule does", plus sign-in for
anything but ``public`` access. Allows and denies are compared separately and the
directions combined: allows wider (or same) and denies narrower (or same) is
widened, and the reverse is narrowed. Examples: ``a`` -> ``a or b`` widened,
``a or b`` -> ``a`` narrowed, ``a and b`` -> ``a`` widened, a deny rule added
narrowed, ``a`` -> ``b`` changed.
"""

from __future__ import annotations

from typing import Iterable

from generator.expr import Binary, Call, ListLiteral, Literal, Path, Unary, parse, unparse

__all__ = ["Predicate", "FALSE", "TRUE", "SIGNED_IN", "compare", "combine", "conjoin", "disjoin", "predicate"]

Predicate = frozenset[frozenset[str]]  # OR of ANDs of atoms
TRUE: Predicate = frozenset({frozenset()})
FALSE: Predicate = frozenset()
SIGNED_IN = "<signed in>"
MAX_ALTERNATIVES = 256  # beyond this the expansion is not worth it: "changed"
_NEGATE = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">", "in": "not in", "not in": "in"}
_SYMMETRIC = ("==", "!=")


class TooLarge(Exception):
    pass


def predicate(text: str, renames: dict[str, str] | None = None) -> Predicate | None:
    """The normal form of a spec expression; None when it does not parse or is too large.

    ``renames`` maps old field names of the record to new ones (``renamed_from``), so an
    old rule reads ``record.headline`` where it said ``record.title``.
    """
    tree, errors = parse(text)
    if tree is None or errors:
        return None
    if renames:
        tree = _renamed(tree, renames)
    try:
        return _simplify(_dnf(tree, False))
    except TooLarge:
        return None


def _renamed(node, renames: dict[str, str]):  # type: ignore[no-untyped-def]
    if isinstance(node, Path):
        if node.root == "record" and node.fields and node.fields[0] in renames:
            return Path("record", (renames[node.fields[0]], *node.fields[1:]))
        return node
    if isinstance(node, Binary):
        return Binary(node.op, _renamed(node.left, renames), _renamed(node.right, renames))
    if isinstance(node, Unary):
        return Unary(node.op, _renamed(node.operand, renames))
    if isinstance(node, ListLiteral):
        return ListLiteral(tuple(_renamed(i, renames) for i in node.items))
    if isinstance(node, Call):
        return Call(node.name, tuple(_renamed(a, renames) for a in node.args))
    return node


def conjoin(a: Predicate, b: Predicate) -> Predicate:
    out = {x | y for x in a for y in b}
    if len(out) > MAX_ALTERNATIVES:
        raise TooLarge
    return _simplify(frozenset(out))


def disjoin(parts: Iterable[Predicate]) -> Predicate:
    out: set[frozenset[str]] = set()
    for p in parts:
        out |= p
    return _simplify(frozenset(out))


def implies(p: Predicate, q: Predicate) -> bool:
    return all(any(alt_q <= alt_p for alt_q in q) for alt_p in p)


def compare(old: Predicate | None, new: Predicate | None) -> str:
    """same | widened | narrowed | changed (changed also when either side could not be normalised)."""
    if old is None or new is None:
        return "changed"
    forward, backward = implies(old, new), implies(new, old)
    if forward and backward:
        return "same"
    if forward:
        return "widened"
    if backward:
        return "narrowed"
    return "changed"


def combine(allows: str, denies: str) -> str:
    """The direction of "allow and not deny" from the directions of its allows and its denies."""
    inverted = {"widened": "narrowed", "narrowed": "widened"}.get(denies, denies)
    if allows == inverted or inverted == "same":
        return allows
    if allows == "same":
        return inverted
    return "changed"


def _simplify(p: frozenset[frozenset[str]]) -> Predicate:
    """Drop alternatives that contain another (absorption: ``a or (a and b)`` is ``a``)."""
    kept = [alt for alt in p if not any(other < alt for other in p)]
    return frozenset(kept)


def _dnf(node, negated: bool) -> Predicate:  # type: ignore[no-untyped-def]
    if isinstance(node, Literal) and node.kind == "bool":
        return TRUE if bool(node.value) != negated else FALSE
    if isinstance(node, Unary) and node.op == "not":
        return _dnf(node.operand, not negated)
    if isinstance(node, Binary) and node.op in ("and", "or"):
        left, right = _dnf(node.left, negated), _dnf(node.right, negated)
        conjunction = (node.op == "and") != negated
        if conjunction:
            return conjoin(left, right)
        return disjoin((left, right))
    if isinstance(node, Binary) and node.op in ("in", "not in") and isinstance(node.right, ListLiteral) \
            and node.right.items and all(isinstance(i, Literal) for i in node.right.items):
        member = (node.op == "in") != negated
        atoms = [_atom(Binary("==" if member else "!=", node.left, item)) for item in node.right.items]
        if member:
            return disjoin(frozenset({frozenset({a})}) for a in atoms)
        return frozenset({frozenset(atoms)})
    if isinstance(node, Binary) and node.op in _NEGATE:
        op = _NEGATE[node.op] if negated else node.op
        atom = _atom(Binary(op, node.left, node.right))
        # `user == x`, `user.role == 'a'`, `user in x` are false for anonymous requests (the compilers guard
        # them), so they imply "signed in": `user.role == 'a'` is narrower than `user != null`.
        if op in ("==", "in") and atom != "not (<signed in>)" and _about_user(node):
            return frozenset({frozenset({atom, SIGNED_IN})})
        return frozenset({frozenset({atom})})
    text = _atom(node)
    return frozenset({frozenset({f"not ({text})" if negated else text})})


def _atom(node) -> str:  # type: ignore[no-untyped-def]
    if isinstance(node, Binary) and node.op in _SYMMETRIC:
        left, right = unparse(node.left), unparse(node.right)
        if _is_user(node.left) and _is_null(node.right) or _is_user(node.right) and _is_null(node.left):
            return SIGNED_IN if node.op == "!=" else "not (<signed in>)"
        a, b = sorted((left, right))
        return f"{a} {node.op} {b}"
    return unparse(node)


def _about_user(node) -> bool:  # type: ignore[no-untyped-def]
    sides = (node.left, node.right)
    return any(isinstance(n, Path) and n.root == "user" for n in sides) and not any(_is_null(n) for n in sides)


def _is_user(node) -> bool:  # type: ignore[no-untyped-def]
    return isinstance(node, Path) and node.root == "user" and not node.fields


def _is_null(node) -> bool:  # type: ignore[no-untyped-def]
    return isinstance(node, Literal) and node.kind == "null"
