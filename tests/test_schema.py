"""JSON Schema errors become Keel diagnostics at the right place, never a raw jsonschema dump."""

from __future__ import annotations

import json

import jsonschema

from generator.schema import schema_document
from tests.conftest import MINIMAL, codes_at


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(schema_document())
    assert schema_document()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_minimal_spec_is_clean(validate):
    result = validate(MINIMAL)
    assert result.ok and result.diagnostics == ()


def test_unknown_property_points_at_the_key_with_did_you_mean(validate):
    result = validate(MINIMAL.replace("      title: string", "      title: {type: string, max_lenght: 3}"))
    [d] = result.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("K201", 12, 29)
    assert "max_length" in d.hint
    assert d.pointer == "/entities/Note/fields/title/max_lenght"


def test_missing_required_property(validate):
    result = validate(MINIMAL.replace("keel: 1\n", ""))
    assert [d.code for d in result.diagnostics] == ["K202"]


def test_wrong_type_quotes_the_source_text_and_suggests_quoting(validate):
    result = validate(MINIMAL.replace('version: "1.0.0"', "version: 1.10"))
    schema_errors = [d for d in result.diagnostics if d.code == "K203"]
    [d] = schema_errors
    assert (d.span.line, d.span.column) == (5, 12)
    assert "1.10" in d.message and '"1.10"' in d.hint


def test_bad_enum_value_suggests_the_closest(validate):
    result = validate(MINIMAL.replace("title: string", "title: {type: strng}"))
    [d] = result.diagnostics
    assert d.code == "K204" and "`string`" in d.hint


def test_shorthand_with_unknown_type_is_one_clear_error(validate):
    result = validate(MINIMAL.replace("title: string", "title: strin"))
    [d] = result.diagnostics
    assert (d.code, d.span.line, d.span.column) == ("K204", 12, 14)
    assert "`string`" in d.hint


def test_rule_with_both_allow_and_deny(validate):
    result = validate(MINIMAL.replace('all: "true"', 'all: [{allow: "true", deny: "false"}]'))
    assert [d.code for d in result.diagnostics] == ["K207"]


def test_effect_doing_two_things(validate):
    spec = MINIMAL + """\
    actions:
      touch:
        permission: "true"
        effects:
          - {set: {title: "'x'"}, add: {title: "'y'"}}
"""
    result = validate(spec)
    assert [d.code for d in result.diagnostics] == ["K206"]


def test_every_error_is_reported_in_one_pass(validate):
    spec = MINIMAL.replace("title: string", "title: {type: string, colour: red, max_lenght: 1}")
    result = validate(spec)
    assert [c for c, *_ in codes_at(result)] == ["K201", "K201"]


def test_cli_schema_prints_the_shipped_schema(capsys):
    from generator.cli import main

    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema_document()
