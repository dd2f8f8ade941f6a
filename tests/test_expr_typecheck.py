"""Type checker tests for generator.expr against a small fake schema."""

from __future__ import annotations

import pytest

from generator.expr import (
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    DURATION,
    INTEGER,
    STRING,
    Context,
    EntityType,
    EnumType,
    FieldInfo,
    ListType,
    Scalar,
    Unknown,
    check,
    children,
    parse,
)


def _s(name, scalar, **kw):
    return FieldInfo(name, "scalar", scalar=scalar, **kw)


def _r(name, kind, target, **kw):
    return FieldInfo(name, kind, target=target, **kw)


ENTITIES: dict[str, list[FieldInfo]] = {
    "User": [
        _s("email", "email"),
        _s("role", "enum", enum_values=("admin", "member")),
        _s("password", "password"),
        _r("following", "many", "User"),
        _r("manager", "ref", "User", nullable=True),
    ],
    "Project": [
        _s("name", "string"),
        _r("owner", "ref", "User"),
        _r("members", "many", "User"),
        _r("tasks", "has_many", "Task"),
    ],
    "Task": [
        _s("title", "string"),
        _s("status", "enum", enum_values=("todo", "doing", "done")),
        _s("due_date", "date", nullable=True),
        _s("start_date", "date"),
        _s("created_at", "datetime"),
        _r("project", "ref", "Project"),
        _r("assignee", "ref", "User", nullable=True),
        _r("author", "ref", "User"),
        _r("stars", "many", "User"),
        _s("estimate", "decimal"),
        _s("points", "integer"),
        _s("done", "boolean"),
        _s("meta", "json"),
    ],
    "Report": [_r("lines", "has_many", "Line"), _s("total", "decimal")],
    "Line": [_s("amount", "decimal"), _r("report", "ref", "Report")],
}


class FakeSchema:
    def entity_names(self) -> list[str]:
        return list(ENTITIES)

    def field(self, entity: str, name: str) -> FieldInfo | None:
        return next((f for f in ENTITIES.get(entity, []) if f.name == name), None)

    def field_names(self, entity: str) -> list[str]:
        return [f.name for f in ENTITIES.get(entity, [])]


SCHEMA = FakeSchema()
TASK = Context(record="Task", user="User", where="a task rule")
REPORT = Context(record="Report", user="User", where="a report rule")
INPUT = {
    "reason": _s("reason", "text"),
    "assignee": _r("assignee", "ref", "User"),
    "status": _s("status", "enum", enum_values=("todo", "doing", "done")),
}
TRANSITION = Context(record="Task", user="User", input=INPUT, where="a transition guard")


def run(text, ctx=TASK, expected=None):
    tree, errors = parse(text)
    assert errors == [], errors
    return check(tree, SCHEMA, ctx, expected)


def typed(text, ctx=TASK, expected=None):
    t, errors, _ = run(text, ctx, expected)
    assert errors == [], errors
    return t


def errs(text, ctx=TASK, expected=None):
    _, errors, _ = run(text, ctx, expected)
    assert errors, f"expected errors for {text!r}"
    return [(e.code, e.start, e.end) for e in errors], errors


# -- the examples from the spec -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "ctx", "expected_type"),
    [
        ("user in record.project.members or user.role == 'admin'", TASK, BOOLEAN),
        ("record.due_date == null or record.due_date >= record.start_date", TASK, BOOLEAN),
        ("record.due_date != null and record.due_date < today() and record.status != 'done'", TASK, BOOLEAN),
        ("sum(record.lines.amount)", REPORT, DECIMAL),
        ("count(record.stars)", TASK, INTEGER),
        ("user in record.stars", TASK, BOOLEAN),
        ("record.author in user.following", TASK, BOOLEAN),
        ("input.assignee", TRANSITION, EntityType("User")),
        ("record.due_date < today() + days(3)", TASK, BOOLEAN),
    ],
)
def test_spec_examples(text, ctx, expected_type):
    assert typed(text, ctx) == expected_type


def test_path_types():
    assert typed("record.title") == STRING
    assert typed("user.email") == STRING
    assert typed("record.status") == EnumType("Task", "status", ("todo", "doing", "done"))
    assert typed("record.project") == EntityType("Project")
    assert typed("record.project.members") == ListType(EntityType("User"))
    assert typed("record.lines.amount", REPORT) == ListType(DECIMAL)
    assert typed("record.project.tasks.stars") == ListType(EntityType("User"))  # flattened
    assert typed("record.meta") == Scalar("json")


def test_nullability_is_tracked_but_not_part_of_equality():
    assert typed("record.assignee").nullable is True
    assert typed("record.assignee.email").nullable is True  # through a nullable ref
    assert typed("record.project").nullable is False
    assert typed("user").nullable is True  # anonymous requests
    assert typed("record.due_date") == DATE and typed("record.due_date").nullable


def test_types_dict_covers_every_node():
    tree, _ = parse("user in record.project.members or user.role == 'admin'")
    _, errors, types = check(tree, SCHEMA, TASK)
    assert not errors
    stack = [tree]
    while stack:
        node = stack.pop()
        assert id(node) in types
        stack.extend(children(node))
    assert types[id(tree.left.right)] == ListType(EntityType("User"))


def test_input_fields():
    assert typed("input.reason", TRANSITION) == STRING
    assert typed("input.assignee.email", TRANSITION) == STRING
    assert typed("input.status == 'done'", TRANSITION) == BOOLEAN
    assert typed("record.status == input.status", TRANSITION) == BOOLEAN


# -- names -----------------------------------------------------------------------


def test_unknown_field_points_at_the_segment_with_did_you_mean():
    spans, errors = errs("record.projct.name == 'x'")
    assert spans == [("K503", 7, 13)]
    assert "`project`" in errors[0].hint


def test_unknown_field_deeper_in_a_path():
    spans, errors = errs("user in record.project.membres")
    assert spans == [("K503", 23, 30)]
    assert "`members`" in errors[0].hint


def test_unknown_input_field():
    spans, errors = errs("input.reasn == 'x'", TRANSITION)
    assert spans == [("K503", 6, 11)]
    assert "`reason`" in errors[0].hint


def test_python_dunder_fields_are_unknown():
    spans, _ = errs("record.__class__")
    assert spans == [("K503", 7, 16)]


def test_password_fields_cannot_be_read():
    spans, _ = errs("user.password == 'x'")
    assert spans == [("K502", 5, 13)]


def test_field_of_a_scalar():
    spans, _ = errs("record.title.length == 1")
    assert spans == [("K502", 13, 19)]


@pytest.mark.parametrize(
    ("text", "ctx", "span"),
    [
        ("record.title == 'x'", Context(record=None, user="User", where="a create permission"), (0, 6)),
        ("user.role == 'admin'", Context(record="Task", user=None), (0, 4)),
        ("input.reason != null", TASK, (0, 5)),
    ],
)
def test_roots_not_available_are_k504_with_a_hint(text, ctx, span):
    spans, errors = errs(text, ctx)
    assert spans == [("K504", *span)]
    assert errors[0].hint


def test_input_alone_is_not_a_value():
    spans, _ = errs("input", TRANSITION)
    assert spans == [("K502", 0, 5)]


# -- booleans -------------------------------------------------------------------


def test_and_or_not_need_booleans():
    spans, _ = errs("record.title and record.done")
    assert spans == [("K505", 0, 12)]
    spans, _ = errs("record.done or record.points")
    assert spans == [("K505", 15, 28)]
    spans, _ = errs("not record.title")
    assert spans == [("K505", 4, 16)]


def test_expected_boolean_condition():
    assert typed("record.done", expected=BOOLEAN) == BOOLEAN
    spans, _ = errs("record.title", expected=BOOLEAN)
    assert spans == [("K505", 0, 12)]


def test_expected_computed_type():
    assert typed("record.points * 2", expected=DECIMAL) == INTEGER  # integer widens
    spans, _ = errs("record.title", expected=DECIMAL)
    assert spans == [("K502", 0, 12)]
    spans, _ = errs("record.estimate", expected=INTEGER)
    assert spans == [("K502", 0, 15)]
    status = EnumType("Task", "status", ("todo", "doing", "done"))
    assert typed("'todo'", expected=status) == STRING
    spans, _ = errs("'nope'", expected=status)
    assert spans == [("K502", 0, 6)]


# -- comparisons ----------------------------------------------------------------


def test_enum_against_literals():
    assert typed("record.status == 'done'") == BOOLEAN
    assert typed("'done' == record.status") == BOOLEAN
    spans, errors = errs("record.status == 'dnoe'")
    assert spans == [("K502", 17, 23)]
    assert "`done`" in errors[0].hint
    spans, _ = errs("record.status == record.title")
    assert spans == [("K502", 0, 29)]
    spans, _ = errs("record.status < 'done'")
    assert spans == [("K502", 0, 22)]


def test_equality_rules():
    assert typed("record.points == record.estimate") == BOOLEAN  # integer/decimal mix
    assert typed("record.assignee == user") == BOOLEAN
    assert typed("record.project.owner != record.assignee") == BOOLEAN
    spans, _ = errs("record.project == user")
    assert spans == [("K502", 0, 22)]
    spans, _ = errs("record.title == 1")
    assert spans == [("K502", 0, 17)]
    spans, _ = errs("record.stars == null")
    assert spans == [("K502", 0, 12)]


def test_null_only_with_equality():
    assert typed("record.assignee == null") == BOOLEAN
    assert typed("null != record.due_date") == BOOLEAN
    spans, _ = errs("record.due_date < null")
    assert spans == [("K502", 18, 22)]


def test_ordering_rules():
    assert typed("record.title < 'm'") == BOOLEAN
    assert typed("record.created_at >= now()") == BOOLEAN
    spans, _ = errs("record.done < true")
    assert spans == [("K502", 0, 18)]
    spans, _ = errs("record.assignee > user")
    assert spans == [("K502", 0, 22)]
    spans, _ = errs("record.due_date < now()")
    assert spans == [("K502", 0, 23)]


def test_membership_rules():
    assert typed("record.status in ['todo', 'doing']") == BOOLEAN
    assert typed("user.role not in ['admin']") == BOOLEAN
    assert typed("record.points in [1, 2, 3]") == BOOLEAN
    spans, errors = errs("record.status in ['todo', 'dne']")
    assert spans == [("K502", 26, 31)]
    assert "`done`" in errors[0].hint
    spans, _ = errs("user in record.title")
    assert spans == [("K502", 8, 20)]
    spans, _ = errs("record.title in record.stars")
    assert spans == [("K502", 0, 28)]
    spans, _ = errs("record.title in [1, 2]")
    assert spans == [("K502", 0, 22)]
    spans, _ = errs("[1, 'a']")
    assert spans == [("K502", 4, 7)]
    assert errs("record.status in ['todo', 1]")[0] == [("K502", 26, 27)]  # reported once
    assert errs("record.status in ['todo', record.title]")[0] == [("K502", 26, 38)]
    assert typed("record.status in [input.status, 'done']", TRANSITION) == BOOLEAN
    assert errs("record.status in [input.status, 'dne']", TRANSITION)[0] == [("K502", 32, 37)]


# -- arithmetic and functions -------------------------------------------------------


def test_arithmetic_types():
    assert typed("record.points + 1") == INTEGER
    assert typed("record.points * record.estimate") == DECIMAL
    assert typed("record.points / 2") == DECIMAL
    assert typed("record.start_date + days(1)") == DATE
    assert typed("record.created_at - days(2)") == DATETIME
    assert typed("record.start_date - record.start_date") == INTEGER
    assert typed("-record.estimate") == DECIMAL
    assert typed("days(3) + days(1)") == DURATION


def test_arithmetic_errors():
    spans, _ = errs("record.title + 1")
    assert spans == [("K502", 0, 16)]
    spans, _ = errs("record.start_date + 3")
    assert spans == [("K502", 0, 21)]
    spans, _ = errs("record.points + null")
    assert spans == [("K502", 16, 20)]
    spans, _ = errs("-record.title")
    assert spans == [("K502", 1, 13)]


def test_function_types():
    assert typed("today()") == DATE
    assert typed("now()") == DATETIME
    assert typed("days(7)") == DURATION
    assert typed("max(record.lines.amount)", REPORT) == DECIMAL
    assert typed("min(record.project.tasks.due_date)") == DATE
    assert typed("len(record.title)") == INTEGER
    assert typed("lower(user.email)") == STRING
    assert typed("coalesce(record.assignee, record.author)") == EntityType("User")
    assert typed("coalesce(record.assignee, record.author)").nullable is False
    assert typed("coalesce(record.status, 'todo')") == EnumType("Task", "status", ("todo", "doing", "done"))


@pytest.mark.parametrize(
    ("text", "ctx", "span"),
    [
        ("days('3')", TASK, (5, 8)),
        ("sum(record.title)", TASK, (4, 16)),
        ("sum(record.stars)", TASK, (4, 16)),
        ("count(record.project)", TASK, (6, 20)),
        ("min(record.project.tasks.title)", TASK, (4, 30)),
        ("len(record.points)", TASK, (4, 17)),
        ("lower(record.status)", TASK, (6, 19)),
        ("coalesce(record.title, 1)", TASK, (23, 24)),
        ("coalesce(record.status, 'nope')", TASK, (24, 30)),
    ],
)
def test_function_argument_errors(text, ctx, span):
    spans, _ = errs(text, ctx)
    assert spans == [("K502", *span)]


# -- error reporting ----------------------------------------------------------------


def test_all_errors_in_one_pass():
    spans, _ = errs("record.titel == 'x' and user.rol == 'admin' and record.status == 'nope'")
    assert spans == [("K503", 7, 12), ("K503", 29, 32), ("K502", 65, 71)]


def test_no_cascade_through_unknown():
    # One bad field: no follow-up errors from ==, and, not, sum, count, in, +.
    for text in [
        "record.nope == 'x' and record.done",
        "not (record.nope.deeper.still > 3)",
        "count(record.nope) > 1",
        "sum(record.nope.amount) + 1 > 2",
        "user in record.nope",
        "record.nope in record.stars",
        "record.nope + 1 == record.nope",
    ]:
        _, errors, _ = run(text)
        assert len(errors) == len([e for e in errors if e.code == "K503"]), (text, errors)
        assert len(errors) in (1, 2), (text, errors)
    spans, _ = errs("record.nope + 1 == record.nope")
    assert [s[0] for s in spans] == ["K503", "K503"]


def test_a_wrong_condition_is_reported_once():
    # The inner mistake makes its node Unknown, so the enclosing nodes stay quiet.
    assert errs("days(record.title < 1)")[0] == [("K502", 5, 21)]
    assert errs("(record.title and record.done) or record.done")[0] == [("K505", 1, 13)]
    assert errs("not (record.status == 'nope')", expected=BOOLEAN)[0] == [("K502", 22, 28)]
    assert errs("record.title < 1", expected=DECIMAL)[0] == [("K502", 0, 16)]


def test_unknown_type_after_an_error():
    t, errors, _ = run("record.nope")
    assert t == Unknown() and len(errors) == 1
    t, errors, _ = run("record.nope", expected=BOOLEAN)
    assert len(errors) == 1  # no extra K505
