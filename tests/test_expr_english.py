"""Plain-English rendering of expressions."""

from __future__ import annotations

import pytest

from generator.expr import MAX_DEPTH, parse, to_english


def english(text: str) -> str:
    tree, errors = parse(text)
    assert errors == [], errors
    return to_english(tree)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "user in record.project.members or user.role == 'admin'",
            "the current user is one of the record's project's members, or the current user's role is admin",
        ),
        (
            "record.end_date == null or record.end_date >= record.start_date",
            "the record's end date is empty, or the record's end date is at least the record's start date",
        ),
        (
            "record.due_date != null and record.due_date < today() and record.status != 'done'",
            "the record's due date is set, the record's due date is before today, and the record's status is not done",
        ),
        ("sum(record.lines.amount)", "the total amount of the record's lines"),
        ("count(record.stars)", "the number of the record's stars"),
        ("user in record.stars", "the current user is one of the record's stars"),
        ("record.author in user.following", "the record's author is one of the current user's following"),
        ("input.assignee", "the given assignee"),
        ("record.due_date < today() + days(3)", "the record's due date is before today plus 3 days"),
        ("record.created_at >= now() - days(1)", "the record's created at is on or after now minus 1 day"),
    ],
)
def test_spec_examples(text, sentence):
    assert english(text) == sentence


def test_lists_and_membership():
    assert english("record.status in ['todo', 'doing']") == "the record's status is todo or doing"
    assert english("record.status not in ['done']") == "the record's status is not done"
    assert english("record.status not in ['a', 'b', 'c']") == "the record's status is none of a, b, or c"
    assert english("user not in record.stars") == "the current user is not one of the record's stars"


def test_grouping_survives():
    assert english("record.done and (user.role == 'admin' or user == record.author)") == (
        "the record's done is true and either the current user's role is admin or the current user is the record's author"
    )
    assert english("record.a and (record.b or record.c or record.d) and record.e") == (
        "the record's a is true, either the record's b is true or the record's c is true or the record's d is true, "
        "and the record's e is true"
    )
    assert english("record.a or record.b and record.c") == (
        "the record's a is true, or the record's b is true and the record's c is true"
    )


def test_negation_flips_comparisons():
    assert english("not record.status == 'done'") == "the record's status is not done"
    assert english("not user in record.stars") == "the current user is not one of the record's stars"
    assert english("not record.archived") == "the record's archived is false"
    assert english("not (record.a and record.b)").startswith("it is not the case that")


def test_null_checks_read_naturally():
    assert english("null == record.assignee") == "the record's assignee is empty"
    assert english("record.assignee != null") == "the record's assignee is set"


def test_values_and_functions():
    assert english("record.title == 'Hello, world!'") == "the record's title is “Hello, world!”"
    assert english("12.50 * -2") == "12.50 times minus 2"
    assert english("coalesce(record.assignee, record.author) == user") == (
        "the record's assignee (or the record's author if that is empty) is the current user"
    )
    assert english("len(lower(record.title)) > 3") == "the length of the record's title in lower case is greater than 3"
    assert english("max(record.lines.amount) <= 100") == "the largest amount of the record's lines is at most 100"


def test_deepest_allowed_expression_renders():
    text = "not " * (MAX_DEPTH - 1) + "record.done"
    assert english(text)


def named(text: str, record: str) -> str:
    tree, errors = parse(text)
    assert errors == [], errors
    return to_english(tree, record=record)


def test_the_record_can_be_named():
    assert named("user == record.assignee", "the task") == "the current user is the task's assignee"
    assert named("user in record.project.members", "it") == "the current user is one of its project's members"
    assert named("record.status == 'draft'", "it") == "its status is draft"
    assert named("count(record.lines) > 0", "it") == "the number of its lines is greater than 0"
    assert named("sum(record.lines.amount) > 1000", "the expense report") == (
        "the total amount of the expense report's lines is greater than 1000"
    )
    assert named("user == record", "the employee") == "the current user is the employee"
    assert named("record.archived", "it") == "its archived"  # a value; as a condition, see below
    assert named("count(record.stars) > 0", "the articles") == "the number of the articles' stars is greater than 0"


def test_aggregates_over_a_field_of_many_records():
    assert english("min(record.lines.spent_on) < today()") == "the smallest spent on of the record's lines is before today"
    assert english("sum(record.amounts)") == "the total of the record's amounts"  # no field to name


def test_input_reads_as_given():
    assert english("input.reason != null") == "the given reason is set"
    assert english("input.assignee.active") == "the given assignee's active"
    assert english("input.amount > record.limit") == "the given amount is greater than the record's limit"


def test_conditions_say_true_for_bare_fields():
    from generator.expr.english import to_english_condition

    tree, _ = parse("record.archived")
    assert to_english_condition(tree, record="it") == "its archived is true"
    tree, _ = parse("user.active and not record.archived")
    assert to_english_condition(tree) == "the current user's active is true and the record's archived is false"
