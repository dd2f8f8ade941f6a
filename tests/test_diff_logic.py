"""generator/diff/logic.py: which rule is wider, proved from the structure of the expressions."""

from __future__ import annotations

import pytest

from generator.diff.logic import combine, compare, predicate


@pytest.mark.parametrize(("old", "new", "direction"), [
    ("user == record.owner", "user == record.owner or user.role == 'admin'", "widened"),
    ("user == record.owner or user.role == 'admin'", "user == record.owner", "narrowed"),
    ("user == record.owner and record.open", "user == record.owner", "widened"),
    ("user == record.owner", "user == record.owner and record.open", "narrowed"),
    ("user.role in ['admin']", "user.role in ['admin', 'manager']", "widened"),
    ("user.role == 'admin'", "user != null", "widened"),
    ("user != null", "true", "widened"),
    ("true", "false", "narrowed"),
    ("not (record.a or record.b)", "not record.a", "widened"),
    ("record.a or record.b", "record.b or record.a", "same"),
    ("record.owner == user", "user == record.owner", "same"),
    ("record.a and (record.b or record.c)", "(record.a and record.b) or (record.a and record.c)", "same"),
    ("record.a", "record.b", "changed"),
    ("record.points < 5", "record.points < 10", "changed"),  # not proved: Keel does not reason about numbers
])
def test_rule_direction(old, new, direction):
    assert compare(predicate(old), predicate(new)) == direction


def test_allow_and_deny_combine():
    assert combine("same", "narrowed") == "widened"  # a deny rule removed or loosened
    assert combine("same", "widened") == "narrowed"  # a deny rule added
    assert combine("widened", "narrowed") == "widened"
    assert combine("widened", "widened") == "changed"
    assert combine("same", "same") == "same"


def test_renamed_fields_are_read_with_their_new_names():
    old = predicate("record.title != null and user == record.owner", {"title": "headline"})
    assert compare(old, predicate("user == record.owner and record.headline != null")) == "same"
    assert compare(predicate("record.title != null"), predicate("record.headline != null")) == "changed"


def test_unparsable_or_huge_rules_are_changed_never_same():
    assert predicate("user ==") is None
    assert compare(None, predicate("true")) == "changed"
    huge = " and ".join(f"(record.a{i} or record.b{i})" for i in range(12))  # 4096 alternatives
    assert predicate(huge) is None
