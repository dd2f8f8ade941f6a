"""Stage 2: check a loaded spec against the JSON Schema of the spec language.

The schema (``keel-spec.schema.json``, draft 2020-12) is shipped with the package,
printed by ``keel schema`` and referenced from spec files so editors autocomplete.
jsonschema's errors are translated into Keel diagnostics that point at the right
place: an unknown property at its key, a wrong value at the value, and an
``anyOf`` failure at the branch that matches the value's type rather than a dump
of every branch.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

from generator.diagnostics import Diagnostic
from generator.loader.sourcemap import SourceMap, join_pointer

__all__ = ["schema_document", "schema_text", "validate_document"]

_SCHEMA_FILE = "keel-spec.schema.json"


def schema_text() -> str:
    return resources.files(__package__).joinpath(_SCHEMA_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def schema_document() -> dict:
    return json.loads(schema_text())


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator  # imported lazily: ~100 ms

    return Draft202012Validator(schema_document())


def validate_document(document: Any, source_map: SourceMap) -> list[Diagnostic]:
    """All schema problems of ``document`` as diagnostics, in source order."""
    out: list[Diagnostic] = []
    for error in _validator().iter_errors(document):
        out.extend(_translate(error, source_map))
    unique = {(d.code, d.pointer, d.message): d for d in out}
    return list(unique.values())


# --- translation ------------------------------------------------------------

_JSON_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def _kind(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _pointer(path: Iterable[Any]) -> str:
    return join_pointer("", *path)


def _resolve(schema: Any) -> Any:
    """Follow a local ``$ref`` (the schema only uses ``#/$defs/...``)."""
    while isinstance(schema, dict) and "$ref" in schema:
        node: Any = schema_document()
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _admits(schema: Any, value: Any) -> bool:
    """Does the branch's declared JSON type admit the value's type?"""
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return True
    if "anyOf" in schema or "oneOf" in schema:
        return any(_admits(s, value) for s in schema.get("anyOf", schema.get("oneOf", [])))
    declared = schema.get("type")
    if declared is None:
        if "enum" in schema:
            return any(type(v) is type(value) for v in schema["enum"])
        return True
    types = declared if isinstance(declared, list) else [declared]
    actual = {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        type(None): "null",
    }[type(value)]
    return actual in types or (actual == "integer" and "number" in types)


def _describe_types(schema: Any) -> str:
    schema = _resolve(schema)
    declared = schema.get("type") if isinstance(schema, dict) else None
    names = {"object": "a mapping", "array": "a list", "string": "a string", "boolean": "a boolean",
             "integer": "an integer", "number": "a number", "null": "null"}
    if isinstance(declared, list):
        return " or ".join(names[t] for t in declared)
    if isinstance(declared, str):
        return names[declared]
    if isinstance(schema, dict) and ("anyOf" in schema or "oneOf" in schema):
        return " or ".join(_describe_types(s) for s in schema.get("anyOf", schema.get("oneOf", [])))
    return "another value"


def _did_you_mean(word: str, options: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _quoted(source_map: SourceMap, pointer: str, value: Any) -> str:
    info = source_map.info(pointer)
    if info is not None and info.text is not None:
        return info.text
    return json.dumps(value)


def _diag(code: str, message: str, source_map: SourceMap, pointer: str, *, at_key: bool = False,
          hint: str | None = None) -> Diagnostic:
    span = source_map.key_span(pointer) if at_key else source_map.value_span(pointer)
    return Diagnostic(code, message, span, pointer, hint)


def _translate(error: Any, source_map: SourceMap) -> list[Diagnostic]:
    pointer = _pointer(error.absolute_path)
    validator = error.validator
    value = error.instance
    schema = error.schema

    if validator in ("anyOf", "oneOf"):
        return _translate_alternatives(error, source_map, pointer)

    if validator == "additionalProperties" and isinstance(value, dict):
        known = set(schema.get("properties", {}))
        out = []
        for key in sorted(set(value) - known):
            hint = _did_you_mean(key, known) or (f"allowed here: {', '.join(sorted(known))}" if known else None)
            out.append(_diag("K201", f"unknown property `{key}`", source_map, join_pointer(pointer, key),
                             at_key=True, hint=hint))
        return out

    if validator == "required":
        missing = [k for k in error.validator_value if isinstance(value, dict) and k not in value]
        return [
            _diag("K202", f"missing required property `{key}`", source_map, pointer, at_key=True,
                  hint=_required_hint(key))
            for key in missing
        ]

    if validator == "type":
        expected = _describe_types(schema)
        text = _quoted(source_map, pointer, value)
        hint = _type_hint(schema, value, text)
        return [_diag("K203", f"expected {expected}, found {_kind(value)} `{text}`", source_map, pointer, hint=hint)]

    if validator in ("enum", "const"):
        allowed = error.validator_value if validator == "enum" else [error.validator_value]
        shown = ", ".join(json.dumps(a) for a in allowed)
        hint = _did_you_mean(value, [a for a in allowed if isinstance(a, str)]) if isinstance(value, str) else None
        return [_diag("K204", f"`{_quoted(source_map, pointer, value)}` is not allowed here; expected {shown}",
                      source_map, pointer, hint=hint or f"use one of: {shown}")]

    if validator in ("minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties"):
        return [_diag("K206", _size_message(validator, error.validator_value, value), source_map, pointer,
                      hint=_size_hint(schema, validator, error.validator_value))]

    if validator == "pattern" and schema is _resolve({"$ref": "#/$defs/field_shorthand"}):
        types = [t for t in schema["pattern"].strip("^()$\\?").split("|")]
        return [_diag("K204", f"unknown field type `{str(value).rstrip('?')}`", source_map, pointer,
                      hint=_did_you_mean(str(value).rstrip("?"), types) or f"use one of: {', '.join(types)}")]

    # minimum, maximum, minLength, pattern, not, ...
    return [_diag("K205", _range_message(validator, error.validator_value, value, source_map, pointer),
                  source_map, pointer, hint=_range_hint(validator, error.validator_value, schema))]


def _translate_alternatives(error: Any, source_map: SourceMap, pointer: str) -> list[Diagnostic]:
    """Report the branch that fits the value's type, or say which shapes were expected."""
    branches = error.validator_value
    value = error.instance
    fitting = [i for i, branch in enumerate(branches) if _admits(branch, value)]
    if error.validator == "oneOf" and len(fitting) > 1 and isinstance(value, dict):
        # Our only oneOf is "exactly one of allow/deny" in a rule.
        return [_diag("K207", "a rule needs exactly one of `allow` or `deny`", source_map, pointer,
                      hint="write `- allow: <expression>` or `- deny: <expression>`")]
    if len(fitting) == 1:
        index = fitting[0]
        sub = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == index]
        # Errors deeper in the tree are more precise; keep only the deepest ones.
        if sub:
            depth = max(len(e.absolute_path) for e in sub)
            out: list[Diagnostic] = []
            for e in sub:
                if len(e.absolute_path) == depth:
                    out.extend(_translate(e, source_map))
            return out
    expected = " or ".join(_describe_types(b) for b in branches)
    return [_diag("K207", f"expected {expected}, found {_kind(value)}", source_map, pointer,
                  hint=_shape_hint(branches))]


def _shape_hint(branches: list[Any]) -> str | None:
    refs = {b.get("$ref", "") for b in branches if isinstance(b, dict)}
    if "#/$defs/expression" in refs:
        return "write one expression, e.g. `user == record.owner`, or a list of `- allow: ...` / `- deny: ...` rules"
    if "#/$defs/field_shorthand" in refs:
        return "write a type name such as `string`, or a mapping such as `{type: string, max_length: 80}`"
    return None


def _required_hint(key: str) -> str | None:
    hints = {
        "keel": "start the spec with `keel: 1`",
        "type": "every field needs a type, e.g. `type: string`",
        "fields": "an entity needs at least one field",
        "effects": "say what the action does, e.g. `effects: [{set: {assignee: input.assignee}}]`",
    }
    return hints.get(key)


def _size_message(validator: str, limit: Any, value: Any) -> str:
    return {
        "minItems": f"needs at least {limit} item(s)",
        "maxItems": f"allows at most {limit} item(s)",
        "uniqueItems": "repeats an item",
        "minProperties": f"needs at least {limit} entr{'y' if limit == 1 else 'ies'}",
        "maxProperties": f"allows at most {limit} entr{'y' if limit == 1 else 'ies'}",
    }[validator]


def _size_hint(schema: dict, validator: str, limit: Any) -> str:
    props = schema.get("properties", {})
    if validator == "maxProperties" and set(props) == {"set", "add", "remove"}:
        return "an effect does one thing: split it into several list items (`- set: ...`, `- add: ...`)"
    if validator == "uniqueItems":
        return "remove the repeated item"
    if validator in ("minItems", "minProperties"):
        return f"add at least {limit}" + (f": {schema['description']}" if "description" in schema else "")
    return f"remove entries to keep at most {limit}"


def _type_hint(schema: dict, value: Any, text: str) -> str | None:
    expected = schema.get("type")
    if expected == "string" and not isinstance(value, (dict, list)):
        return f'quote it: "{text}" (YAML reads it as {json.dumps(value)})'
    if isinstance(value, str) and expected in ("integer", "number"):
        try:
            float(value)
        except ValueError:
            return "write a number"
        return f"remove the quotes: {value}"
    if isinstance(value, str) and expected == "boolean":
        return "write true or false, without quotes"
    if "description" in schema:
        return schema["description"]
    return "see docs/spec-language.md for the shape this key takes"


def _range_hint(validator: str, limit: Any, schema: dict) -> str:
    if validator == "minimum":
        return f"use {limit} or more"
    if validator == "maximum":
        return f"use {limit} or less"
    if validator == "minLength":
        return "write a value, or remove the key"
    if validator == "maxLength":
        return f"shorten it to {limit} characters"
    if "description" in schema:
        return schema["description"]
    return "see docs/spec-language.md for the values this key takes"


def _range_message(validator: str, limit: Any, value: Any, source_map: SourceMap, pointer: str) -> str:
    text = _quoted(source_map, pointer, value)
    return {
        "minimum": f"`{text}` is less than the minimum {limit}",
        "maximum": f"`{text}` is greater than the maximum {limit}",
        "minLength": "must not be empty" if limit == 1 else f"must be at least {limit} characters",
        "maxLength": f"must be at most {limit} characters",
        "pattern": f"`{text}` does not have the expected form ({limit})",
    }.get(validator, f"`{text}` is not valid here ({validator})")
