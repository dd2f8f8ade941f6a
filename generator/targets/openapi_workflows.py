"""OpenAPI operations of transitions, actions, approvals and named queries (routers/<entity>_workflow.py).

Built with ``generator.targets.openapi``'s builder so components are shared and none is
unused. Every status and problem code listed here is one the router template can answer
with; ``tests/test_generated_workflows.py`` checks the answers against it.
"""

from __future__ import annotations

import re
from typing import Any

from generator.ir.nodes import AppIR, CommandIR, EntityIR, QueryIR
from generator.targets.api import EntityApiView
from generator.targets.jsonschemas import _property
from generator.targets.workflows import commands, input_model_name

__all__ = ["workflow_operations"]

_JSON = "application/json"


def _idempotency_parameter(b) -> dict[str, str]:  # type: ignore[no-untyped-def]
    if "IdempotencyKey" not in b.parameters:
        b.parameters["IdempotencyKey"] = {
            "name": "Idempotency-Key", "in": "header", "required": False,
            "description": "Any 1-255 visible ASCII characters, new for each intended change. A retry with the "
                           "same key (same user, method, path and body) changes nothing again and answers as the "
                           "first request did, with `Idempotent-Replayed: true`; the same key with another "
                           "request is 422 `idempotency_key_reused`. Keys are kept for 24 hours.",
            "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
        }
    return {"$ref": "#/components/parameters/IdempotencyKey"}


def _record_response(b, e: EntityIR, view: EntityApiView, description: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    schema = b.entity_schema(e, "read")
    if view.envelope:
        schema = {"type": "object", "properties": {view.envelope_one: schema}, "required": [view.envelope_one]}
    return {"description": description,
            "headers": {"ETag": b.header("ETag"), "X-Request-ID": b.header("X-Request-ID"),
                        "Idempotent-Replayed": {"description": "`true` when this is the stored answer of an earlier "
                                                               "request with the same Idempotency-Key.",
                                                "schema": {"type": "string", "const": "true"}}},
            "content": {_JSON: {"schema": schema}}}


def _example_key(e: EntityIR) -> str:
    column = next(c for c in e.columns if c.name == e.lookup)
    if column.spec_type == "slug":
        return "an-example"
    return "42" if column.py_type == "int" else "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def _path_params(path: str, e: EntityIR) -> list[dict[str, Any]]:
    out = []
    for name in re.findall(r"{([^}]+)}", path):
        column = next(c for c in e.columns if c.name == name)
        schema = {k: v for k, v in column.json_schema.items() if k not in ("description", "examples")}
        out.append({"name": name, "in": "path", "required": True, "schema": schema,
                    "description": f"The {e.name}'s `{column.wire}`. A value that cannot exist is simply "
                                   "not found (404)."})
    return out


def _command(b, ir: AppIR, e: EntityIR, view: EntityApiView, c: CommandIR) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    instance = re.sub(r"{[^}]+}", _example_key(e), c.path)
    problems: list[tuple[str, str, dict[str, Any]]] = []
    shared = ["ContentTooLarge", "UnsupportedMediaType", "InternalError", "ServiceUnavailable"]
    what = "transition" if c.kind == "transition" else "action"
    description = [c.description.strip()] if c.description.strip() else []
    if c.kind == "transition":
        description.append(f"Moves the {e.name} from {' or '.join(f'`{s}`' for s in c.sources)} to `{c.target}` "
                           f"(409 `invalid_transition` from any other state).")
    conditions = []
    if c.roles:
        conditions.append("the user's role is " + " or ".join(f"`{r}`" for r in c.roles))
    allows = [r for r in c.rules if r.effect == "allow" and not r.id.endswith(".roles")]
    if allows:
        conditions.append(" or ".join(r.english for r in allows))
    if conditions:
        description.append("Allowed when " + " and ".join(conditions) + "; otherwise 403 naming the deciding rule.")
    if c.approvals is not None:
        steps = ", ".join(f"`{s.role}`" + (f" (when {s.when.english})" if s.when else "") for s in c.approvals.steps)
        description.append(f"Needs approvals: {steps}" + (", each by a different person" if c.approvals.distinct
                                                          else "") +
                           (f"; never by {c.approvals.exclude.english.replace('the current user is ', '')}"
                            if c.approvals.exclude else "") +
                           ". Each call records the caller's approval for an open step of their role (202 while "
                           "more are needed); the call that gives the last one performs the transition (200).")
    if c.guard is not None:
        description.append(f"Guard: {c.guard.english} (otherwise {422 if c.guard.uses_input else 409} "
                           "`guard_failed`).")
    description.append("Honours If-Match and Idempotency-Key.")
    operation: dict[str, Any] = {
        "operationId": c.operation_id,
        "tags": [e.name],
        "summary": f"{c.name.replace('_', ' ').capitalize()} a {e.name}" + (" (transition)" if c.kind == "transition"
                                                                          else " (action)"),
        "description": " ".join(description),
        "x-keel-source": c.source,
        "x-keel-access": "authenticated",
    }
    params = _path_params(c.path, e) + [b.parameter("IfMatch"), _idempotency_parameter(b)]
    if c.input:
        name = input_model_name(e, c)
        if name not in b.schemas:
            b.schemas[name] = {
                "title": name, "description": f"The input of `{c.name}`.", "type": "object",
                "properties": {f.wire: _property(f) for f in c.input},
                "required": sorted(f.wire for f in c.input if f.required_on_create),
                "additionalProperties": False,
            }
        operation["requestBody"] = {"required": True, "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
        first = c.input[0]
        problems.append(("missing", "A required field left out", b.invalid(instance, first.wire, "Field required",
                                                                           "missing")))
        problems.append(("unknown_field", "A field the input does not have",
                         b.invalid(instance, "colour", "unknown field", "extra_forbidden")))
    else:
        operation["requestBody"] = {"required": False, "description": "No input: send no body, or `{}`.",
                                    "content": {_JSON: {"schema": {"type": "object", "maxProperties": 0}}}}
        problems.append(("no_input", "A body with fields", b.invalid(
            instance, "", "this endpoint takes no input: send no body or {}", "no_input")))
    problems.append(("malformed_json", "A body that is not JSON",
                     b.problem(400, "malformed_json", "The request body is not valid JSON.", instance)))
    problems.append(("invalid_idempotency_key", "An Idempotency-Key that is not 1-255 visible ASCII characters",
                     b.invalid(instance, "Idempotency-Key", "must be 1-255 visible ASCII characters",
                               "invalid_idempotency_key")))
    reused = b.problem(422, "idempotency_key_reused", "This Idempotency-Key was already used for a different request.",
                       instance)
    problems.append(("idempotency_key_reused", "The key of an earlier, different request", reused))
    for f in c.input:
        if f.spec_type == "ref":
            problems.append(("unknown_reference", "A reference to a record that does not exist", b.invalid(
                instance, f.wire, f"does not refer to an existing {f.foreign_key.target_entity}", "unknown_reference")))
            break
    if c.effects and e.invariants and any(x.kind == "set" for x in c.effects):
        inv = e.invariants[0]
        doc = b.problem(b.vs, "invariant_violated", inv.message, instance)
        doc["rule"] = inv.name
        problems.append(("invariant_violated", "A change that breaks one of the spec's invariants", doc))
    forbidden = b.problem(403, "forbidden", f"You may not {c.name} this {e.name}.", instance)
    forbidden["rule"] = (c.rules[0].id if c.rules else f"{e.name}.{c.name}.approvers")
    problems.append(("forbidden", "Refused by the spec's rules (the problem names the deciding `rule`)", forbidden))
    problems.append(("not_found", "No record has this key, or the user may not read it",
                     b.problem(404, "not_found", f"No such {e.name}.", instance)))
    problems.append(("malformed_key", "A key that cannot exist", b.problem(404, "not_found", "No such record.", instance)))
    if c.kind == "transition":
        wrong = next((s for s in ir_states(e) if s not in c.sources), c.target or "")
        doc = b.problem(409, "invalid_transition", f"Cannot {c.name} a {e.name} that is {wrong}.", instance)
        doc.update(transition=c.name, state=wrong, allowed_from=list(c.sources))
        problems.append(("invalid_transition", "The record is not in a state this transition starts from", doc))
    if c.guard is not None:
        doc = b.problem(b.vs if c.guard.uses_input else 409, "guard_failed",
                        f"The {c.name} is not possible now: its guard does not hold.", instance)
        doc["rule"] = c.guard.id
        problems.append(("guard_failed", "The spec's guard does not hold", doc))
    if c.approvals is not None:
        problems.append(("already_approved", "The caller has already approved", b.problem(
            409, "already_approved", f"You have already approved this {e.name}.", instance)))
        problems.append(("approval_not_needed", "The caller's role's step is already approved", b.problem(
            409, "approval_not_needed", f"The {c.approvals.steps[0].role} approval of this {e.name} is already given.",
            instance)))
    if c.kind == "action" and c.frozen:
        doc = b.problem(409, "frozen_field", f"{c.frozen[0]} cannot change while the {e.name} is "
                        f"{e.workflow.frozen[0].states[0] if e.workflow and e.workflow.frozen else 'frozen'}.", instance)
        problems.append(("frozen_field", "A field the workflow freezes in the record's state", doc))
    problems.append(("conflict", "The record changed meanwhile (a concurrent request won)", b.problem(
        409, "conflict", "The record changed meanwhile; fetch it and try again.", instance)))
    problems.append(("idempotency_key_in_use", "A request with the same Idempotency-Key is still running", b.problem(
        409, "idempotency_key_in_use", "A request with this Idempotency-Key is in progress; retry shortly.", instance)))
    problems.append(("stale_version", "If-Match names an older version", b.problem(
        412, "stale_version", "The record changed since you read it; fetch it again.", instance)))
    extra_headers = {
        409: {"Retry-After": {"description": "With `idempotency_key_in_use`: seconds to wait before retrying.",
                              "schema": {"type": "integer", "minimum": 0}}},
        412: {"ETag": {"description": "The record's current version, when the check that failed was If-Match.",
                       "schema": {"type": "string", "pattern": '^"v[0-9]+"$'}}},
    }
    if ir.auth is not None:
        operation["security"] = b.security_requirement()
        shared.append("Unauthorized")
    else:
        operation["security"] = []
    responses: dict[str, Any] = {"200": _record_response(b, e, view, f"The {e.name} after the {what}.")}
    if c.approvals is not None:
        responses["202"] = _record_response(b, e, view, f"The approval is recorded; the {e.name} waits for more "
                                                        "(its state is unchanged).")
    params.append(b.parameter("RequestId"))
    operation["parameters"] = params
    operation["responses"] = {**responses, **b.responses(problems, extra_headers)}
    for name in shared:
        status, ref = b.shared_response(name)
        operation["responses"][str(status)] = ref
    operation["responses"] = dict(sorted(operation["responses"].items()))
    return operation


def ir_states(e: EntityIR) -> tuple[str, ...]:
    return e.workflow.states if e.workflow else ()


def _approvals(b, ir: AppIR, e: EntityIR, path: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    instance = re.sub(r"{[^}]+}", _example_key(e), path)
    if "Approval" not in b.schemas:
        b.schemas["Approval"] = {
            "title": "Approval", "description": "One approval: who gave it, for which step, when, and what became "
                                                "of it (`pending` while it counts towards the transition).",
            "type": "object",
            "properties": {
                "transition": {"type": "string"},
                "step": {"type": "integer", "minimum": 1},
                "role": {"type": "string"},
                "approver_id": {"type": "string"},
                "approved_at": {"type": "string", "format": "date-time"},
                "outcome": {"type": "string", "enum": ["pending", "counted", "void"]},
            },
            "required": ["approved_at", "approver_id", "outcome", "role", "step", "transition"],
            "additionalProperties": False,
        }
    key = "items" if not e.envelope else e.envelope_many
    operation: dict[str, Any] = {
        "operationId": f"approvals_{e.module}",
        "tags": [e.name],
        "summary": f"Approvals of a {e.name}",
        "description": "Every approval given for the record, oldest first. 404 when the user may not read the record.",
        "x-keel-source": e.workflow.source if e.workflow else e.source,
        "x-keel-access": "authenticated",
        "parameters": _path_params(path, e) + [b.parameter("RequestId")],
        "security": ([*b.security_requirement(), {}] if ir.auth is not None else []),
    }
    problems = [
        ("unknown_parameter", "A query parameter this endpoint does not take",
         b.invalid(instance, "colour", "unknown query parameter", "unknown_parameter")),
        ("not_found", "No record has this key, or the user may not read it",
         b.problem(404, "not_found", f"No such {e.name}.", instance)),
        ("malformed_key", "A key that cannot exist", b.problem(404, "not_found", "No such record.", instance)),
    ]
    responses = {"200": {"description": "The approvals.", "headers": {"X-Request-ID": b.header("X-Request-ID")},
                         "content": {_JSON: {"schema": {
                             "type": "object", "properties": {key: {"type": "array", "items": {
                                 "$ref": "#/components/schemas/Approval"}}},
                             "required": [key], "additionalProperties": False}}}}}
    shared = ["InternalError", "ServiceUnavailable"] + (["Unauthorized"] if ir.auth is not None else [])
    operation["responses"] = {**responses, **b.responses(problems)}
    for name in shared:
        status, ref = b.shared_response(name)
        operation["responses"][str(status)] = ref
    operation["responses"] = dict(sorted(operation["responses"].items()))
    return operation


def _query(b, ir: AppIR, e: EntityIR, view: EntityApiView, q: QueryIR, ctx: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    instance = q.path
    list_access = dict(e.access).get("list", "denied")
    params: list[dict[str, Any]] = []
    problems: list[tuple[str, str, dict[str, Any]]] = []
    shared = ["InternalError", "ServiceUnavailable"]
    description = [q.description.strip()] if q.description.strip() else []
    description.append(f"Only {e.plural.replace('_', ' ')} where {q.where.english}, and never more than the "
                       f"{e.name} list rule shows. Ordered by "
                       + ", ".join(("-" if o.descending else "") + o.column for o in q.order)
                       + f"; {view.pagination} pagination.")
    operation: dict[str, Any] = {
        "operationId": q.operation_id, "tags": [e.name],
        "summary": q.name.replace("_", " ").capitalize(),
        "x-keel-source": q.source, "x-keel-access": list_access,
    }
    if list_access == "denied":
        shared.append("Forbidden")
        description.append("No rule in the spec allows listing these records: it always answers 403.")
        operation["security"] = []
    else:
        params.append(b.parameter("Limit"))
        if view.pagination == "cursor":
            params.append({"name": "cursor", "in": "query", "required": False,
                           "description": f"Where the next page starts: the `{ctx['next_key']}` of the previous "
                                          "page. Opaque.", "schema": {"type": "string"}})
            problems.append(("bad_cursor", "A cursor from another list or sort", b.problem(
                400, "bad_cursor", "The cursor is not valid for this list and sort order.", instance)))
        else:
            params.append({"name": "offset", "in": "query", "required": False, "description": "How many records to skip.",
                           "schema": {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0}})
            problems.append(("invalid_offset", "A negative offset", b.invalid(
                instance, "offset", "must be a non-negative integer", "invalid_offset")))
        problems.append(("invalid_limit", "A page size over the maximum", b.invalid(
            instance, "limit", f"must be an integer from 1 to {b.ir.page_size_max}", "invalid_limit")))
        problems.append(("unknown_parameter", "A query parameter this endpoint does not take", b.invalid(
            instance, "colour", "unknown query parameter", "unknown_parameter")))
        if list_access == "authenticated" and ir.auth is not None:
            operation["security"] = [*b.security_requirement(), {}]
            shared.append("Unauthorized")
        else:
            operation["security"] = []
    page = "".join(p.title() for p in f"{e.module}_{q.name}".split("_")) + "Page"
    if view.pagination == "cursor":
        more = {ctx["next_key"]: {"type": ["string", "null"],
                                  "description": "The cursor of the next page; null on the last page."}}
    else:
        more = {ctx["count_key"]: {"type": "integer", "minimum": 0, "description": "How many records match, on all pages."}}
    list_key = ctx["list_key"]
    b.schemas[page] = {"title": page, "description": f"One page of the `{q.name}` query.", "type": "object",
                       "properties": {list_key: {"type": "array", "items": b.entity_schema(e, "read")}, **more},
                       "required": sorted([list_key, *more]), "additionalProperties": False}
    params.append(b.parameter("RequestId"))
    operation["description"] = " ".join(description)
    operation["parameters"] = params
    responses: dict[str, Any] = {}
    if list_access != "denied":
        responses["200"] = {"description": "One page.", "headers": {"X-Request-ID": b.header("X-Request-ID")},
                            "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{page}"}}}}
    else:
        responses["200"] = {"description": "Never: no rule allows listing.",
                            "headers": {"X-Request-ID": b.header("X-Request-ID")},
                            "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{page}"}}}}
    operation["responses"] = {**responses, **b.responses(problems)}
    for name in shared:
        status, ref = b.shared_response(name)
        operation["responses"][str(status)] = ref
    operation["responses"] = dict(sorted(operation["responses"].items()))
    return operation


def workflow_operations(b, ir: AppIR, e: EntityIR, view: EntityApiView,  # type: ignore[no-untyped-def]
                        ctx: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of every transition, action, approvals list and query of ``e``."""
    out = [(c.path, c.method.lower(), _command(b, ir, e, view, c)) for c in commands(e)]
    if e.workflow and any(t.approvals for t in e.workflow.transitions):
        path = f"{e.collection_path}/{{{e.lookup}}}/approvals"
        out.append((path, "get", _approvals(b, ir, e, path)))
    out += [(q.path, "get", _query(b, ir, e, view, q, ctx)) for q in e.queries]
    return out

