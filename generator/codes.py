"""The registry of diagnostic codes: one row per code, never reused.

Bands by stage (errors):
  K1xx  loading (files, YAML, includes)
  K2xx  JSON Schema of the spec language
  K3xx  names and references
  K4xx  entities, fields and relations
  K5xx  expressions and rules (permissions, workflows, computed fields, ...)
  K6xx  endpoints and API conventions
  K7xx  rendering (reserved)          K8xx  spec diffs (reserved)
Warnings live in K9xx, with the same tens digit as their stage (K91x loading, K93x names, ...).

Every code is documented in docs/diagnostics.md with a bad example and its fix;
a test fails when one is missing. A retired code stays here, marked retired.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: Severity
    title: str


_E, _W = Severity.ERROR, Severity.WARNING

_ROWS: tuple[tuple[str, Severity, str], ...] = (
    # --- K1xx loading -------------------------------------------------------
    ("K101", _E, "YAML syntax error"),
    ("K102", _E, "duplicate key in a mapping"),
    ("K103", _E, "YAML tag not allowed"),
    ("K104", _E, "too many aliases (alias expansion limit)"),
    ("K105", _E, "file too large"),
    ("K106", _E, "nesting too deep"),
    ("K107", _E, "file is not valid UTF-8"),
    ("K108", _E, "forbidden control character (NUL, bidi override, zero-width)"),
    ("K109", _E, "more than one YAML document in a file"),
    ("K110", _E, "empty spec file"),
    ("K111", _E, "top level is not a mapping"),
    ("K112", _E, "mapping key is not a string"),
    ("K113", _E, "YAML merge keys are not supported"),
    ("K114", _E, "tab character used for indentation"),
    ("K115", _E, "cannot read spec file or directory"),
    ("K116", _E, "include pattern is not a relative path inside the spec directory"),
    ("K117", _E, "included file declares a section other than entities and scenarios"),
    ("K118", _E, "number is not finite (NaN or infinity)"),
    # --- K2xx JSON Schema ---------------------------------------------------
    ("K201", _E, "unknown property"),
    ("K202", _E, "missing required property"),
    ("K203", _E, "value has the wrong type"),
    ("K204", _E, "value is not one of the allowed values"),
    ("K205", _E, "value is out of range or does not match the expected form"),
    ("K206", _E, "list or mapping has the wrong size or repeats an item"),
    ("K207", _E, "value matches none of the allowed shapes"),
    # --- K3xx names and references ------------------------------------------
    ("K301", _E, "name is not a valid identifier"),
    ("K302", _E, "name is a Python keyword or shadows a Python builtin"),
    ("K303", _E, "name is an SQL reserved word"),
    ("K304", _E, "name is longer than 63 bytes (PostgreSQL limit)"),
    ("K305", _E, "names collide when case is ignored"),
    ("K306", _E, "name is reserved by the generated code or its libraries"),
    ("K307", _E, "entity defined in more than one file"),
    ("K308", _E, "name used twice in one namespace"),
    ("K310", _E, "unknown entity"),
    ("K311", _E, "unknown field"),
    ("K312", _E, "unknown state"),
    ("K313", _E, "unknown role"),
    ("K314", _E, "unknown transition"),
    # --- K4xx entities, fields, relations -----------------------------------
    ("K401", _E, "option does not apply to this field type"),
    ("K402", _E, "default value does not match the field type"),
    ("K403", _E, "minimum is greater than maximum"),
    ("K404", _E, "invalid decimal precision or scale"),
    ("K405", _E, "invalid regular expression"),
    ("K406", _E, "invalid enum values"),
    ("K407", _E, "on_delete: set_null on a required reference"),
    ("K408", _E, "required references form a cycle: no row can be inserted first"),
    ("K409", _E, "slug source is missing or not text"),
    ("K410", _E, "inverse relation does not match a reference"),
    ("K411", _E, "many-to-many mirror does not match"),
    ("K412", _E, "option not allowed on a password field"),
    ("K413", _E, "auth configuration does not match the user entity"),
    ("K414", _E, "composite constraint or ordering uses an unsuitable field"),
    ("K415", _E, "conflicting field options"),
    ("K416", _E, "renamed_from names something that still exists"),
    ("K417", _E, "automatic value does not fit the field"),
    ("K418", _E, "lookup field is not unique"),
    ("K419", _E, "workflow field is also declared as a field"),
    ("K420", _E, "option required by this field type is missing"),
    ("K421", _E, "password field in a spec without sign-in"),
    # --- K5xx expressions and rules -----------------------------------------
    ("K501", _E, "expression syntax error"),
    ("K502", _E, "expression type error"),
    ("K503", _E, "unknown name in expression"),
    ("K504", _E, "name not available in this expression's context"),
    ("K505", _E, "condition is not a boolean"),
    ("K506", _E, "workflow initial state is missing or unknown"),
    ("K507", _E, "workflow state is unreachable"),
    ("K508", _E, "approval steps are invalid"),
    ("K509", _E, "computed value does not match its declared type"),
    ("K510", _E, "notification recipient is not a user"),
    ("K511", _E, "effect cannot change its target"),
    ("K512", _E, "rules need an auth section"),
    ("K513", _E, "frozen fields rule is invalid"),
    ("K514", _E, "message template refers to an unknown value"),
    # K55x: extensions and hooks (user modules beside the spec, read with ast, never run)
    ("K550", _E, "extension module file is missing or unreadable"),
    ("K551", _E, "extension module is not valid Python"),
    ("K552", _E, "hook or extension names an undeclared module"),
    ("K553", _E, "hook or extension names something its module does not define"),
    ("K554", _E, "hook signature does not match"),
    ("K555", _E, "hook on an operation the entity does not serve"),
    ("K556", _E, "extension module path is not inside the spec directory"),
    # K57x: scenarios (the spec's own tests, generator/checks/scenarios.py)
    ("K570", _E, "scenario is defined twice"),
    ("K571", _E, "scenario step acts as an unknown user"),
    ("K572", _E, "scenario user has an unknown role"),
    ("K573", _E, "scenario step names an unknown entity"),
    ("K574", _E, "scenario step uses an operation the entity does not serve"),
    ("K575", _E, "scenario step names an unknown transition, action or query"),
    ("K576", _E, "scenario step names an unknown field"),
    ("K577", _E, "scenario refers to a record it has not saved"),
    ("K578", _E, "scenario value does not fit its field"),
    ("K579", _E, "scenario step is malformed"),
    # --- K6xx endpoints and API conventions ---------------------------------
    ("K601", _E, "two endpoints have the same method and path"),
    ("K602", _E, "path parameter is not declared"),
    ("K603", _E, "invalid endpoint path"),
    ("K604", _E, "field cannot be used as a filter or sort key"),
    ("K605", _E, "include names something that is not a relation"),
    ("K606", _E, "operation is switched off but still referenced"),
    # --- K7xx rendering: migrations between spec versions ---------------------
    ("K701", _E, "schema change would lose data (migration refused)"),
    ("K702", _E, "required field has no value for the rows already stored"),
    ("K703", _E, "migration history in the output directory is unreadable or incomplete"),
    # --- K8xx spec diffs (keel diff) ------------------------------------------
    ("K801", _E, "evolution.allow names an unknown keel diff rule"),
    # --- K9xx warnings ------------------------------------------------------
    ("K911", _W, "plain scalar that other YAML tools read differently (YAML 1.1)"),
    ("K912", _W, "include pattern matched no file"),
    ("K931", _W, "role declared but never used"),
    ("K951", _W, "operation has no permission rule: denied to everyone"),
    ("K952", _W, "workflow state is a dead end but not marked final"),
    ("K953", _W, "final state has outgoing transitions"),
    ("K970", _W, "scenarios leave a rule unexercised (allowed or denied)"),
)

CODES: dict[str, CodeInfo] = {code: CodeInfo(code, sev, title) for code, sev, title in _ROWS}

if len(CODES) != len(_ROWS):  # pragma: no cover - guards the table above
    raise RuntimeError("duplicate diagnostic code in generator/codes.py")
