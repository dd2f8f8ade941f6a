"""A reference for what Keel expressions mean: a small interpreter over the AST and plain dict data.

The compiler tests (test_compile_sql.py, test_compile_python.py) check generated SQL and
Python against it. It shares nothing with ``generator/compile``: it reads field kinds from
the spec model and walks the parsed AST directly, with these semantics (the compiler's
docstring states the same):

* a path through a missing value is null; a to-many path is a list without nulls and
  without soft-deleted records;
* ``==``/``!=`` treat null as a value (``null == null``); every other comparison with null
  is false; a null condition counts as false (so ``not`` of it is true);
* arithmetic with null is null; ``sum([])`` is 0, ``min([])``/``max([])`` are null;
* ``date - date`` is a number of days; ``/`` is exact decimal division.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field
from typing import Any

from generator.expr import Binary, Call, ListLiteral, Literal, Path, Unary, parse
from generator.model.spec import Spec


@dataclass(frozen=True)
class Ref:
    """A record, by entity and id."""

    entity: str
    id: Any


@dataclass
class World:
    """Rows by entity and id. A ref field holds the target's id; the owning side of a
    ``many`` field holds a list of ids; ``has_many`` and mirrored ``many`` are derived."""

    spec: Spec
    rows: dict[str, dict[Any, dict[str, Any]]]
    today: datetime.date
    now: datetime.datetime
    _computed: dict = field(default_factory=dict)  # parsed computed expressions

    def step(self, value: Any, name: str, user: Ref | None = None, input: dict[str, Any] | None = None) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            out: list[Any] = []
            for item in value:
                got = self.step(item, name, user, input)
                if isinstance(got, list):
                    out.extend(got)
                elif got is not None:
                    out.append(got)
            return out
        assert isinstance(value, Ref), value
        entity = self.spec.entity(value.entity)
        row = self.rows[value.entity][value.id]
        f = entity.field(name)
        if f is None:
            computed = entity.computed_field(name)
            assert computed is not None, name
            key = (value.entity, name)
            if key not in self._computed:
                tree, errors = parse(computed.expr.text)
                assert not errors
                self._computed[key] = tree
            return self.eval(self._computed[key], value, user, input)
        target = f.to.name if f.to else None
        if f.type in ("has_many", "many"):
            return [r for r in self.related(value, f, target) if self.live(r)]
        if f.type == "ref":
            ident = row.get(name)
            return None if ident is None else Ref(target, ident)
        return row.get(name)

    def related(self, value: Ref, f, target: str) -> list[Ref]:
        if f.type == "has_many":
            via = f.via.name if f.via else next(
                g.name for g in self.spec.entity(target).fields
                if g.type == "ref" and g.to and g.to.name == value.entity)  # fmt: skip
            return [Ref(target, i) for i, r in self.rows[target].items() if r.get(via) == value.id]
        if f.via is None:
            return [Ref(target, i) for i in self.rows[value.entity][value.id].get(f.name, [])]
        return [Ref(target, i) for i, r in self.rows[target].items() if value.id in r.get(f.via.name, [])]

    def live(self, ref: Ref) -> bool:
        """Soft-deleted records are not part of to-many relations."""
        return not self.spec.entity(ref.entity).soft_delete or self.rows[ref.entity][ref.id].get("deleted_at") is None

    # -- evaluation --------------------------------------------------------------------
    def evaluate(self, node, record: Ref | None = None, user: Ref | None = None,
                 input: dict[str, Any] | None = None) -> Any:  # fmt: skip
        return self.eval(node, record, user, input)

    def truth(self, node, **kwargs) -> bool:
        return self.evaluate(node, **kwargs) is True

    def eval(self, node, record, user, input):  # noqa: C901 - one case per construct
        ev = lambda n: self.eval(n, record, user, input)  # noqa: E731
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, ListLiteral):
            return [ev(i) for i in node.items]
        if isinstance(node, Path):
            if node.root == "record":
                value, fields = record, node.fields
            elif node.root == "user":
                value, fields = user, node.fields
            else:
                value, fields = (input or {}).get(node.fields[0]), node.fields[1:]
            for name in fields:
                value = self.step(value, name, user, input)
            return value
        if isinstance(node, Unary):
            v = ev(node.operand)
            if node.op == "not":
                return not (v is True)
            return None if v is None else -v
        if isinstance(node, Call):
            return self.call(node, [ev(a) for a in node.args])
        assert isinstance(node, Binary)
        if node.op == "and":
            return ev(node.left) is True and ev(node.right) is True
        if node.op == "or":
            return ev(node.left) is True or ev(node.right) is True
        a, b = ev(node.left), ev(node.right)
        if node.op == "==":
            return a == b
        if node.op == "!=":
            return a != b
        if node.op in ("<", "<=", ">", ">="):
            if a is None or b is None:
                return False
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[node.op]
        if node.op in ("in", "not in"):
            found = any(a == item for item in b or [])
            return found if node.op == "in" else not found
        if a is None or b is None:
            return None
        if node.op == "+":
            return a + b
        if node.op == "-":
            if _is_date(a) and _is_date(b):
                return (a - b).days  # date - date is a number of days
            return a - b
        if node.op == "*":
            return a * b
        if node.op == "/":
            return decimal.Decimal(a) / decimal.Decimal(b)
        raise AssertionError(node.op)

    def call(self, node: Call, args: list[Any]) -> Any:
        name = node.name
        if name == "today":
            return self.today
        if name == "now":
            return self.now
        if name == "days":
            return None if args[0] is None else datetime.timedelta(days=args[0])
        if name in ("count", "sum", "min", "max"):
            items = args[0] or []  # a to-many path through a missing record is an empty list
            if name == "count":
                return len(items)
            if name == "sum":
                return sum(items, 0)
            return (min if name == "min" else max)(items) if items else None
        if name == "len":
            return None if args[0] is None else len(args[0])
        if name == "lower":
            return None if args[0] is None else args[0].lower()
        if name == "coalesce":
            return args[0] if args[0] is not None else args[1]
        raise AssertionError(name)


def _is_date(value: Any) -> bool:
    return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)


# -- the reference itself is tested on hand-computed cases ------------------------------


def _tiny_world() -> World:
    from tests.conftest import REPO
    from generator.pipeline import validate_path

    result = validate_path(REPO / "specs/tasks")
    rows = {
        "User": {1: {"role": "admin"}, 2: {"role": "member"}},
        "Project": {10: {"members": [2], "owner": 1}},
        "Task": {
            20: {"project": 10, "assignee": None, "due_date": None, "status": "todo"},
            21: {"project": 10, "assignee": 2, "due_date": datetime.date(2026, 1, 1), "status": "todo"},
        },
    }
    return World(result.spec, rows, datetime.date(2026, 1, 5), datetime.datetime(2026, 1, 5, 12))


def _ev(world: World, text: str, **kwargs: Any) -> Any:
    tree, errors = parse(text)
    assert not errors
    return world.evaluate(tree, **kwargs)


def test_reference_null_semantics():
    w = _tiny_world()
    unassigned, assigned = Ref("Task", 20), Ref("Task", 21)
    member = Ref("User", 2)
    assert _ev(w, "record.assignee != user", record=unassigned, user=member) is True
    assert _ev(w, "record.assignee == user", record=unassigned, user=None) is True  # null == null
    assert _ev(w, "record.due_date < today()", record=unassigned) is False
    assert _ev(w, "not (record.due_date < today())", record=unassigned) is True
    assert _ev(w, "user.role == 'admin'", user=None) is False
    assert _ev(w, "record.overdue", record=assigned) is True
    assert _ev(w, "today() - record.due_date", record=assigned) == 4


def test_reference_relations_and_aggregates():
    w = _tiny_world()
    task = Ref("Task", 21)
    assert _ev(w, "user in record.project.members", record=task, user=Ref("User", 2)) is True
    assert _ev(w, "user in record.project.members", record=task, user=Ref("User", 1)) is False
    assert _ev(w, "count(record.tasks)", record=Ref("Project", 10)) == 2
    assert _ev(w, "max(record.tasks.due_date)", record=Ref("Project", 10)) == datetime.date(2026, 1, 1)
    assert _ev(w, "record in user.projects", record=Ref("Project", 10), user=Ref("User", 2)) is True
    assert _ev(w, "count(user.assigned_tasks)", user=None) == 0
