"""Which writes no anonymous request can ever pass: answered 401 before anything else.

An operation's rules decide who may do it; most writes need a signed-in user
(``user == record.owner``), but a rule may also let anyone in on some records
(``record.open``). Only when *every* allow rule is false for an anonymous request,
whatever the record, does the app refuse an anonymous write up front, with 401 and
before reading the body or the record (so a missing record or a bad body is never
the answer to someone who must sign in first), and does the OpenAPI document say
that signing in is required. Otherwise anonymous requests go through the rules like
any other, and the document says signing in is optional.

The analysis follows the compiler's semantics (generator/compile/compiler.py): a
path through the missing user is null, a comparison with null is false except
``==``/``!=``, which compare null as a value, and a to-many list never holds null.
It is sound but not complete: when it cannot tell, it says "may pass".
"""

from __future__ import annotations

from generator.expr.nodes import Binary, Literal, ListLiteral, Path
from generator.expr.parser import parse
from generator.ir.nodes import AppIR, EntityIR

WRITES = ("create", "update", "delete")


def refuses_anonymous(ir: AppIR, e: EntityIR, op: str) -> bool:
    """Whether every allow rule of ``op`` is false for an anonymous request, on any record."""
    if ir.auth is None or dict(e.access).get(op) != "authenticated":
        return False
    rules = next((r.rules for r in e.rules if r.op == op), ())
    allows = [r for r in rules if r.effect == "allow"]
    if not allows:
        return False
    by_name = {x.name: x for x in ir.entities}
    for rule in allows:
        tree, errors = parse(rule.text)
        if tree is None or errors or not _false_without_user(tree, e, by_name):
            return False
    return True


def _false_without_user(node, e: EntityIR, by_name: dict[str, EntityIR]) -> bool:
    if isinstance(node, Literal):
        return node.value is False
    if isinstance(node, Path):
        return node.root == "user"  # a boolean through the missing user is null: false
    if not isinstance(node, Binary):
        return False  # not, calls, ...: cannot tell
    if node.op == "and":
        return _false_without_user(node.left, e, by_name) or _false_without_user(node.right, e, by_name)
    if node.op == "or":
        return _false_without_user(node.left, e, by_name) and _false_without_user(node.right, e, by_name)
    left, right = node.left, node.right
    user_left, user_right = _is_user(left), _is_user(right)
    if not (user_left or user_right):
        return False
    if node.op in ("<", "<=", ">", ">="):
        return True  # a comparison with null is false
    if node.op == "in":
        # `user in record.members` (a to-many list never holds null), `user.role in ['a', 'b']`
        return user_left and (isinstance(right, Path) and right.root == "record" and len(right.fields) > 0
                              and _to_many(e, right, by_name)
                              or isinstance(right, ListLiteral) and not any(_is_null(i) for i in right.items))
    other = right if user_left else left
    if node.op == "!=":
        return _is_null(other)  # `user != null`
    if node.op == "==":
        # null == x is false exactly when x can never be null
        return (isinstance(other, Literal) and other.value is not None
                or isinstance(other, Path) and other.root == "record" and _never_null(e, other, by_name))
    return False


def _is_user(node) -> bool:
    return isinstance(node, Path) and node.root == "user"


def _is_null(node) -> bool:
    return isinstance(node, Literal) and node.value is None


def _never_null(e: EntityIR, path: Path, by_name: dict[str, EntityIR]) -> bool:
    """Whether a record path always has a value: the record itself, or required fields all the way."""
    entity = e
    for name in path.fields:
        relation = next((r for r in entity.relations if r.name == name), None)
        if relation is not None:
            if relation.kind != "many_to_one":
                return False
            column = next((c for c in entity.columns if c.name == relation.fk_attribute), None)
            if column is None or column.nullable:
                return False
            entity = by_name[relation.target]
            continue
        column = next((c for c in entity.columns if c.name == name), None)
        return column is not None and not column.nullable and name == path.fields[-1]
    return True


def _to_many(e: EntityIR, path: Path, by_name: dict[str, EntityIR]) -> bool:
    """Whether a record path ends in a to-many relation (a list, which never holds null)."""
    entity = e
    for i, name in enumerate(path.fields):
        relation = next((r for r in entity.relations if r.name == name), None)
        if relation is None:
            return False
        if relation.kind != "many_to_one":
            return i == len(path.fields) - 1
        entity = by_name[relation.target]
    return False
