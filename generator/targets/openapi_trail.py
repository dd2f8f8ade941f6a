"""OpenAPI operations of the audit trail and the notification inbox (routers/trail.py).

Built with ``generator.targets.openapi``'s builder so components are shared and none is unused.
Every status and problem code listed here is one ``templates/app/package/routers/trail.py.j2``
can answer with.
"""

from __future__ import annotations

import re
from typing import Any

from generator.ir.nodes import AppIR
from generator.targets.trail import trail_context

__all__ = ["trail_operations"]

_JSON = "application/json"
_UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def _page_params(b, cursor_of: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [b.parameter("Limit"),
            {"name": "cursor", "in": "query", "required": False,
             "description": f"Where the next page starts: the `{cursor_of}` of the previous page. Opaque.",
             "schema": {"type": "string"}}]


def _page_problems(b, instance: str) -> list[tuple[str, str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    return [
        ("bad_cursor", "A cursor from another list",
         b.problem(400, "bad_cursor", "The cursor is not valid for this list and sort order.", instance)),
        ("invalid_limit", "A page size over the maximum",
         b.invalid(instance, "limit", f"must be an integer from 1 to {b.ir.page_size_max}", "invalid_limit")),
        ("unknown_parameter", "A query parameter this endpoint does not take",
         b.invalid(instance, "colour", "unknown query parameter", "unknown_parameter")),
        ("repeated_parameter", "A query parameter given more than once",
         b.invalid(instance, "limit", "given more than once", "repeated_parameter")),
    ]


def _finish(b, operation: dict[str, Any], params, responses, problems, shared) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    operation["parameters"] = [*params, b.parameter("RequestId")]
    operation["responses"] = {**responses, **b.responses(problems)}
    for name in [*shared, "InternalError", "ServiceUnavailable"]:
        status, ref = b.shared_response(name)
        operation["responses"][str(status)] = ref
    operation["responses"] = dict(sorted(operation["responses"].items()))
    return operation


def _audit_schema(b, keys: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    if "AuditPage" not in b.schemas:
        pair = {"type": "object", "properties": {"old": {}, "new": {}}, "required": ["old", "new"],
                "additionalProperties": False}
        b.schemas["AuditEntry"] = {
            "title": "AuditEntry",
            "description": "One change to a record: who, when, what (old and new value of each changed field; "
                           "write-only fields and fields with their own read rule as \"[redacted]\"), and the "
                           "id of the spec rule that allowed it.",
            "type": "object",
            "properties": {
                "id": {"type": "integer", "minimum": 1, "description": "Increases with time."},
                "at": {"type": "string", "format": "date-time"},
                keys["actor_id"]: {"type": ["string", "null"], "description": "The acting user's id."},
                "operation": {"type": "string", "enum": ["create", "update", "delete", "transition", "action"]},
                "name": {"type": ["string", "null"], "description": "The transition or action, if one."},
                "changes": {"type": "object", "additionalProperties": pair},
                "rule": {"type": ["string", "null"], "description": "The id of the rule that allowed it."},
                keys["request_id"]: {"type": ["string", "null"]},
            },
            "required": sorted(["id", "at", keys["actor_id"], "operation", "name", "changes", "rule",
                                keys["request_id"]]),
            "additionalProperties": False,
        }
        b.schemas["AuditPage"] = {
            "title": "AuditPage", "description": "One page of a record's audit trail, oldest first.",
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}},
                           keys["next_cursor"]: {"type": ["string", "null"],
                                                 "description": "The cursor of the next page; null on the last."}},
            "required": sorted(["items", keys["next_cursor"]]),
            "additionalProperties": False,
        }
    return {"$ref": "#/components/schemas/AuditPage"}


def _notification_schemas(b, keys: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    if "Notification" in b.schemas:
        return
    b.schemas["Notification"] = {
        "title": "Notification", "description": "A notification for the signed-in user.", "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The event id, stable across deliveries."},
            "notification": {"type": "string", "description": "The spec's name for it."},
            "entity": {"type": "string"},
            keys["record_id"]: {"type": "string"},
            "message": {"type": "string"},
            keys["created_at"]: {"type": "string", "format": "date-time"},
            keys["read_at"]: {"type": ["string", "null"], "format": "date-time"},
        },
        "required": sorted(["id", "notification", "entity", keys["record_id"], "message", keys["created_at"],
                            keys["read_at"]]),
        "additionalProperties": False,
    }
    b.schemas["NotificationPage"] = {
        "title": "NotificationPage", "description": "One page of notifications, newest first.", "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Notification"}},
                       keys["next_cursor"]: {"type": ["string", "null"]}},
        "required": sorted(["items", keys["next_cursor"]]),
        "additionalProperties": False,
    }


def trail_operations(b, ir: AppIR) -> list[tuple[str, str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """(path, method, operation) of every endpoint routers/trail.py serves."""
    ctx = trail_context(ir)
    keys = ctx["keys"]
    by_name = {e.name: e for e in ir.entities}
    out = []
    for h in ctx["history"]:
        e = by_name[h["name"]]
        column = next(c for c in e.columns if c.name == e.lookup)
        example = "42" if column.py_type == "int" else ("an-example" if column.spec_type == "slug" else _UUID)
        instance = re.sub(r"{[^}]+}", example, h["path"])
        schema = {k: v for k, v in column.json_schema.items() if k not in ("description", "examples")}
        params = [{"name": e.lookup, "in": "path", "required": True, "schema": schema,
                   "description": f"The {e.name}'s `{column.wire}`. A value that cannot exist is simply not "
                                  "found (404)."}, *_page_params(b, keys["next_cursor"])]
        problems = _page_problems(b, instance)
        shared: list[str] = []
        operation: dict[str, Any] = {"operationId": h["operation_id"], "tags": [e.name],
                                     "summary": f"Audit trail of a {e.name}", "x-keel-source": e.source,
                                     "x-keel-access": h["access"]}
        if h["access"] == "denied":
            operation["security"] = []
            shared.append("Forbidden")
            operation["description"] = "No rule in the spec allows reading this entity: it always answers 403."
        else:
            operation["description"] = (
                f"Every create, update, delete, transition and action of this {e.name}, oldest first, with "
                "who did it, when, the old and new value of each changed field and the rule that allowed it. "
                "The record's read rule applies: a record the user may not read answers 404. The trail is "
                "append-only: nothing changes or deletes an entry.")
            problems += [("not_found", "No record has this key, or the user may not read it",
                          b.problem(404, "not_found", f"No such {e.name}.", instance)),
                         ("malformed_key", "A key that cannot exist",
                          b.problem(404, "not_found", "No such record.", instance))]
            if h["access"] == "authenticated":
                operation["security"] = [*b.security_requirement(), {}]
                shared.append("Unauthorized")
            else:
                operation["security"] = []
        responses = {"200": {"description": "One page of the trail.",
                             "headers": {"X-Request-ID": b.header("X-Request-ID")},
                             "content": {_JSON: {"schema": _audit_schema(b, keys)}}}}
        out.append((h["path"], "get", _finish(b, operation, params, responses, problems, shared)))
    if ctx["has_notifications"]:
        _notification_schemas(b, keys)
        path = ctx["inbox_path"]
        problems = _page_problems(b, path) + [("invalid_unread", "unread that is not true or false", b.invalid(
            path, "unread", "must be true or false", "invalid_parameter"))]
        params = [*_page_params(b, keys["next_cursor"]),
                  {"name": "unread", "in": "query", "required": False,
                   "description": "`true`: only unread ones; `false`: only read ones.",
                   "schema": {"type": "string", "enum": ["true", "false"]}}]
        operation = {"operationId": "list_my_notifications", "tags": ["Notifications"],
                     "summary": "My notifications", "x-keel-access": "authenticated",
                     "description": "The signed-in user's notifications, newest first. They are written in the "
                                    "transaction of the change that caused them, so a change that failed "
                                    "notified nobody.",
                     "security": b.security_requirement()}
        responses = {"200": {"description": "One page of notifications.",
                             "headers": {"X-Request-ID": b.header("X-Request-ID")},
                             "content": {_JSON: {"schema": {"$ref": "#/components/schemas/NotificationPage"}}}}}
        out.append((path, "get", _finish(b, operation, params, responses, problems, ["Unauthorized"])))
        read_path = f"{path}/{{id}}/read"
        instance = f"{path}/{_UUID}/read"
        operation = {"operationId": "read_my_notification", "tags": ["Notifications"],
                     "summary": "Mark a notification as read", "x-keel-access": "authenticated",
                     "description": "Marks one of the user's notifications as read (again: no change). Someone "
                                    "else's, or one that does not exist, answers 404.",
                     "security": b.security_requirement()}
        params = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"},
                   "description": "The notification's id."}]
        problems = [("not_found", "Not one of the user's notifications",
                     b.problem(404, "not_found", "No such notification.", instance))]
        responses = {"200": {"description": "The notification, read.",
                             "headers": {"X-Request-ID": b.header("X-Request-ID")},
                             "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Notification"}}}}}
        out.append((read_path, "post", _finish(b, operation, params, responses, problems, ["Unauthorized"])))
    return out
