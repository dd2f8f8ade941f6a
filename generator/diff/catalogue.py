"""The catalogue of spec changes ``keel diff`` reports: one stable id per kind of change.

Ids are part of Keel's interface (the JSON output, ``--allow RULE``, the spec's
``evolution.allow`` list): never renamed or reused. Each rule says what it breaks
by default; a comparison may refine that for one change (a type change that only
widens loses no data). ``buf`` and ``oasdiff`` name the nearest rule of those tools,
for people who know them (docs/diff.md prints this table).

Categories:
  api-breaking  an existing client may stop working (a request it sends is refused,
                a response it reads has a different shape)
  data          the database needs a migration; ``destructive`` when it can lose data
  security      who may see or do what changed (permissions, field access, guards,
                approvals): widened or unknown-direction changes need a review
  safe          additions and relaxations no client or row can notice
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "RULES", "Rule", "rule"]

CATEGORIES = ("api-breaking", "data", "security", "safe")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    breaking: bool  # breaks existing API clients
    destructive: bool  # the migration can lose data
    migration: bool  # the database schema changes
    review: bool  # security: a person must look (a rule widened, or changed in a way Keel cannot order)
    description: str
    buf: str = ""  # nearest `buf breaking` rule
    oasdiff: str = ""  # nearest `oasdiff breaking` check


def _r(id: str, category: str, description: str, *, breaking: bool = False, destructive: bool = False,
       migration: bool = False, review: bool = False, buf: str = "", oasdiff: str = "") -> Rule:
    return Rule(id, category, breaking, destructive, migration, review, description, buf, oasdiff)


_API, _DATA, _SEC, _SAFE = CATEGORIES

_ALL: tuple[Rule, ...] = (
    # --- entities and fields: the data model, seen by clients and by the database ----------
    _r("entity-removed", _API, "an entity (its table and its endpoints) was removed", breaking=True,
       destructive=True, migration=True, buf="MESSAGE_NO_DELETE", oasdiff="api-path-removed-without-deprecation"),
    _r("entity-renamed", _API, "an entity was renamed (`renamed_from`): its table is renamed, no data is lost; "
       "its paths and schema names change", breaking=True, migration=True, buf="MESSAGE_NO_DELETE",
       oasdiff="api-path-removed-without-deprecation"),
    _r("entity-added", _SAFE, "a new entity (a new table and endpoints)", migration=True),
    _r("table-renamed", _DATA, "an entity's table name changed (`table:` or `plural:`): the table is renamed",
       migration=True),
    _r("id-strategy-changed", _API, "an entity's id changed between uuid and integer: every key and reference "
       "changes type", breaking=True, destructive=True, migration=True, buf="FIELD_SAME_TYPE",
       oasdiff="request-parameter-type-changed"),
    _r("field-removed", _API, "a field was removed: clients lose it and its column is dropped", breaking=True,
       destructive=True, migration=True, buf="FIELD_NO_DELETE", oasdiff="response-property-removed"),
    _r("field-renamed", _API, "a field was renamed (`renamed_from`): its column is renamed, no data is lost; "
       "its name on the wire changes", breaking=True, migration=True, buf="FIELD_SAME_JSON_NAME",
       oasdiff="request-property-removed"),
    _r("wire-name-changed", _API, "a field keeps its name but is sent under another JSON key", breaking=True,
       buf="FIELD_SAME_JSON_NAME", oasdiff="response-property-removed"),
    _r("column-renamed", _DATA, "a field's column name changed (`column:`): the column is renamed",
       migration=True),
    _r("field-added", _SAFE, "a new optional field (or one the server fills)", migration=True),
    _r("required-input-added", _API, "a new field clients must send on create (required, no default)",
       breaking=True, migration=True, oasdiff="new-required-request-property"),
    _r("input-became-required", _API, "an existing field must now be sent on create (it became required or "
       "lost its default)", breaking=True, buf="FIELD_SAME_CARDINALITY", oasdiff="request-property-became-required"),
    _r("field-became-nullable", _API, "a field may now be null: clients reading it must handle null (the column "
       "loses NOT NULL)", breaking=True, migration=True, oasdiff="response-property-became-nullable"),
    _r("field-became-required", _DATA, "a field may no longer be null: the migration needs every row to have a "
       "value (clients already send it)", migration=True, oasdiff="request-property-became-not-nullable"),
    _r("field-no-longer-writable", _API, "clients may no longer send a field on create or update (strict bodies "
       "refuse it)", breaking=True, oasdiff="request-property-removed"),
    _r("field-type-changed", _API, "a field's type changed; destructive unless every old value converts "
       "exactly", breaking=True, destructive=True, migration=True, buf="FIELD_SAME_TYPE",
       oasdiff="request-property-type-changed"),
    _r("ref-target-changed", _API, "a reference points to another entity", breaking=True, destructive=True,
       migration=True, buf="FIELD_SAME_TYPE", oasdiff="request-property-type-changed"),
    _r("max-length-decreased", _API, "a text field's maximum length went down: longer values are refused and "
       "the column narrows", breaking=True, destructive=True, migration=True,
       oasdiff="request-property-max-length-decreased"),
    _r("max-length-increased", _SAFE, "a text field's maximum length went up (clients may read longer values)",
       migration=True, oasdiff="response-property-max-length-increased"),
    _r("min-length-increased", _API, "a text field's minimum length went up: shorter values are refused",
       breaking=True, migration=True, oasdiff="request-property-min-length-increased"),
    _r("min-length-decreased", _SAFE, "a text field's minimum length went down", migration=True,
       oasdiff="request-property-min-length-decreased"),
    _r("max-decreased", _API, "a number's maximum went down: larger values are refused", breaking=True,
       migration=True, oasdiff="request-property-max-decreased"),
    _r("min-increased", _API, "a number's minimum went up: smaller values are refused", breaking=True,
       migration=True, oasdiff="request-property-min-increased"),
    _r("range-widened", _SAFE, "a number's minimum went down or maximum went up (clients may read values "
       "outside the old range)", migration=True, oasdiff="response-property-max-increased"),
    _r("decimal-scale-changed", _API, "a decimal's precision or scale changed", breaking=True, destructive=True,
       migration=True, buf="FIELD_SAME_TYPE", oasdiff="request-property-pattern-changed"),
    _r("pattern-changed", _API, "a field's pattern was added or changed: values that matched may be refused",
       breaking=True, oasdiff="request-property-pattern-changed"),
    _r("pattern-removed", _SAFE, "a field's pattern was removed", oasdiff="request-property-pattern-removed"),
    _r("enum-value-removed", _API, "an enum value (or workflow state, or role) was removed: clients sending it "
       "are refused and rows holding it must be migrated", breaking=True, destructive=True, migration=True,
       buf="ENUM_VALUE_NO_DELETE", oasdiff="request-property-enum-value-removed"),
    _r("enum-value-added", _SAFE, "an enum value was added (clients switching over the values may meet a new "
       "one)", migration=True, oasdiff="response-property-enum-value-added"),
    _r("default-changed", _SAFE, "a field's default changed (clients that omit it get another value)",
       buf="FIELD_SAME_DEFAULT", oasdiff="request-property-default-value-changed"),
    _r("unique-added", _DATA, "a uniqueness rule was added: the migration fails on duplicates, and requests that "
       "were accepted may get 409", migration=True),
    _r("unique-removed", _SAFE, "a uniqueness rule was removed", migration=True),
    _r("index-changed", _SAFE, "an index was added or removed", migration=True),
    _r("on-delete-changed", _DATA, "what deleting a referenced record does changed; destructive when it now "
       "cascades", migration=True),
    _r("relation-removed", _API, "a to-many relation was removed; a many-to-many link table is dropped",
       breaking=True, destructive=True, migration=True, buf="FIELD_NO_DELETE", oasdiff="response-property-removed"),
    _r("computed-removed", _API, "a computed field was removed from responses", breaking=True,
       buf="FIELD_NO_DELETE", oasdiff="response-property-removed"),
    _r("computed-type-changed", _API, "a computed field's type changed", breaking=True, buf="FIELD_SAME_TYPE",
       oasdiff="response-property-type-changed"),
    _r("computed-added", _SAFE, "a new computed field in responses"),
    _r("invariant-added", _API, "a new invariant: requests that were accepted may be refused, and existing rows "
       "may violate it", breaking=True),
    _r("invariant-narrowed", _API, "an invariant accepts fewer records", breaking=True),
    _r("invariant-changed", _API, "an invariant changed in a way Keel cannot order: review it", breaking=True),
    _r("invariant-relaxed", _SAFE, "an invariant was removed or accepts more records"),
    # --- endpoints and API conventions ---------------------------------------------------------
    _r("operation-removed", _API, "an endpoint (CRUD operation, action, transition or named query) was removed",
       breaking=True, buf="RPC_NO_DELETE", oasdiff="api-removed-without-deprecation"),
    _r("operation-added", _SAFE, "a new endpoint", oasdiff="endpoint-added"),
    _r("path-changed", _API, "an endpoint answers at another path", breaking=True, buf="PACKAGE_NO_DELETE",
       oasdiff="api-path-removed-without-deprecation"),
    _r("method-changed", _API, "an endpoint answers to another HTTP method", breaking=True,
       oasdiff="api-removed-without-deprecation"),
    _r("operation-id-changed", _API, "an endpoint's operationId changed (generated clients rename the call)",
       breaking=True, buf="RPC_SAME_REQUEST_TYPE", oasdiff="api-operation-id-removed"),
    _r("parameter-removed", _API, "a query parameter (filter, sort field, include) is no longer accepted: "
       "requests using it get 400", breaking=True, oasdiff="request-parameter-removed"),
    _r("parameter-added", _SAFE, "a new optional query parameter", oasdiff="new-optional-request-parameter"),
    _r("response-status-removed", _API, "an endpoint no longer answers with a success status it used to",
       breaking=True, oasdiff="response-success-status-removed"),
    _r("response-format-changed", _API, "the shape of every answer changed (envelope, pagination, wire names, "
       "error format, validation status)", breaking=True, oasdiff="response-body-type-changed"),
    _r("page-size-max-decreased", _API, "the largest page a list serves went down: larger `limit`s are refused",
       breaking=True, oasdiff="request-parameter-max-decreased"),
    _r("page-size-default-changed", _SAFE, "a list without `limit` returns another number of items",
       oasdiff="request-parameter-default-value-changed"),
    _r("input-field-removed", _API, "an action or transition no longer takes an input field (strict bodies "
       "refuse it)", breaking=True, buf="FIELD_NO_DELETE", oasdiff="request-property-removed"),
    _r("transition-changed", _API, "a transition starts from fewer states or ends in another state",
       breaking=True),
    # --- security -------------------------------------------------------------------------------
    _r("permission-widened", _SEC, "an operation's permission allows more (an allow rule added or loosened, a "
       "deny rule removed or narrowed): review it", review=True, oasdiff="api-security-removed"),
    _r("permission-narrowed", _SEC, "an operation's permission allows less: clients that were allowed get 403",
       breaking=True, oasdiff="api-security-added"),
    _r("permission-changed", _SEC, "an operation's permission changed in a way Keel cannot order: review it",
       breaking=True, review=True, oasdiff="api-security-updated"),
    _r("field-visibility-widened", _SEC, "more users may read a field: review it", review=True),
    _r("field-visibility-narrowed", _SEC, "fewer users may read a field (it is left out for the others)",
       breaking=True),
    _r("field-visibility-changed", _SEC, "a field's read rule changed in a way Keel cannot order: review it",
       breaking=True, review=True),
    _r("field-write-widened", _SEC, "more users may set a field (its write rule is wider, or it is no longer "
       "read-only): review it", review=True),
    _r("field-write-narrowed", _SEC, "fewer users may set a field", breaking=True),
    _r("field-write-changed", _SEC, "a field's write rule changed in a way Keel cannot order: review it",
       breaking=True, review=True),
    _r("transition-guard-widened", _SEC, "a transition's or action's guard holds in more cases: review it",
       review=True),
    _r("transition-guard-narrowed", _SEC, "a transition's or action's guard holds in fewer cases (more 409s)",
       breaking=True),
    _r("transition-guard-changed", _SEC, "a transition's or action's guard changed in a way Keel cannot order: "
       "review it", breaking=True, review=True),
    _r("approval-rule-weakened", _SEC, "fewer approvals are needed (a step removed or needed less often, an "
       "exclusion dropped, distinct approvers no longer required): review it", review=True),
    _r("approval-rule-strengthened", _SEC, "more approvals are needed", breaking=True),
    _r("approval-rule-changed", _SEC, "an approval step changed in a way Keel cannot order (another role, "
       "another condition): review it", breaking=True, review=True),
    _r("frozen-rule-weakened", _SEC, "fewer fields are frozen, or in fewer states: review it", review=True),
    _r("frozen-rule-strengthened", _SEC, "more fields are frozen, or in more states: updates that were accepted "
       "are refused", breaking=True),
    _r("signup-enabled", _SEC, "anyone may now create an account: review it", review=True),
    _r("default-role-changed", _SEC, "new users get another role: review it", review=True),
    _r("audit-disabled", _SEC, "an entity's changes are no longer recorded in the audit trail: review it",
       review=True),
    _r("audit-enabled", _SAFE, "an entity's changes are now recorded in the audit trail", migration=True),
)

RULES: dict[str, Rule] = {r.id: r for r in _ALL}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
