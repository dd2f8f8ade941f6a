"""Build the typed spec model from a document that passed the JSON Schema.

The schema has already guaranteed every value's shape, so this is a plain,
total translation: no diagnostics here. Keel's implicit fields (id, timestamps,
the user's role, a workflow's state field) are added as ``synthesized`` fields so
that expressions and references can use them like declared ones.
"""

from __future__ import annotations

from typing import Any

from generator.loader.sourcemap import join_pointer
from generator.model.scenarios import build_scenarios
from generator.model.spec import (
    OPERATIONS, Action, AllowedChange, Api, App, ApprovalStep, Approvals, Auth, Computed, Effect, Entity,
    EntityApi, Expression, Extensions, Field, Frozen, HookRef, Invariant, NameRef, Notification, Query, Rule,
    RuleSet, Spec, Transition, Workflow,
)

__all__ = ["build_spec", "SYNTHESIZED_NAMES"]

# Columns the generated code always owns; a declared field may not take these names.
SYNTHESIZED_NAMES = ("id", "created_at", "updated_at", "deleted_at", "lock_version")


def build_spec(doc: dict[str, Any]) -> Spec:
    app = doc["app"]
    auth = _auth(doc["auth"], "/auth") if "auth" in doc else None
    entities = tuple(
        _entity(name, body, join_pointer("/entities", name), auth)
        for name, body in doc["entities"].items()
    )
    return Spec(
        app=App(
            name=app["name"],
            title=app.get("title", app["name"]),
            version=app.get("version", "0.1.0"),
            description=app.get("description", ""),
        ),
        api=_api(doc.get("api", {})),
        auth=auth,
        entities=entities,
        extensions=_extensions(doc["extensions"]) if "extensions" in doc else None,
        scenarios=build_scenarios(doc),
        evolution=_evolution(doc.get("evolution", {})),
    )


def _evolution(body: dict[str, Any]) -> tuple[AllowedChange, ...]:
    return tuple(AllowedChange(item["rule"], item.get("target"), item.get("reason", ""),
                               join_pointer("/evolution/allow", i)) for i, item in enumerate(body.get("allow", ())))


def _hook(value: str, pointer: str) -> HookRef:
    module, _, name = value.partition(".")  # the schema's pattern guarantees exactly one dot
    return HookRef(module, name, pointer)


def _opt_hook(body: dict[str, Any], key: str, base: str) -> HookRef | None:
    return _hook(body[key], join_pointer(base, key)) if key in body else None


def _extensions(body: dict[str, Any]) -> Extensions:
    ptr = "/extensions"
    return Extensions(
        modules=tuple((name, path, join_pointer(ptr, "modules", name)) for name, path in body["modules"].items()),
        routers=tuple(_hook(v, join_pointer(ptr, "routers", i)) for i, v in enumerate(body.get("routers", ()))),
        middleware=tuple(_hook(v, join_pointer(ptr, "middleware", i))
                         for i, v in enumerate(body.get("middleware", ()))),
        pointer=ptr,
    )


def _api(body: dict[str, Any]) -> Api:
    errors = body.get("errors", {})
    page = body.get("page_size", {})
    return Api(
        prefix=body.get("prefix", ""),
        wire_names=body.get("wire_names", "snake_case"),
        envelope=body.get("envelope", False),
        pagination=body.get("pagination", "cursor"),
        auth_scheme=body.get("auth_scheme", "Bearer"),
        error_format=errors.get("format", "problem"),
        validation_status=errors.get("validation_status", 422),
        page_size_default=page.get("default", 50),
        page_size_max=page.get("max", 200),
    )


def _ref(body: dict[str, Any], key: str, base: str) -> NameRef | None:
    return NameRef(body[key], join_pointer(base, key)) if key in body else None


def _refs(body: dict[str, Any], key: str, base: str) -> tuple[NameRef, ...]:
    return tuple(NameRef(v, join_pointer(base, key, i)) for i, v in enumerate(body.get(key, ())))


def _ref_groups(body: dict[str, Any], key: str, base: str) -> tuple[tuple[NameRef, ...], ...]:
    return tuple(
        tuple(NameRef(v, join_pointer(base, key, i, j)) for j, v in enumerate(group))
        for i, group in enumerate(body.get(key, ()))
    )


def _expr(value: Any, pointer: str) -> Expression:
    text = ("true" if value else "false") if isinstance(value, bool) else value
    return Expression(text, pointer)


def _opt_expr(body: dict[str, Any], key: str, base: str) -> Expression | None:
    return _expr(body[key], join_pointer(base, key)) if key in body else None


def _auth(body: dict[str, Any], ptr: str) -> Auth:
    return Auth(
        pointer=ptr,
        user=_ref(body, "user", ptr),
        identity=_ref(body, "identity", ptr),
        password=_ref(body, "password", ptr),
        roles=_refs(body, "roles", ptr),
        default_role=_ref(body, "default_role", ptr),
        signup=body.get("signup", False),
        active_field=_ref(body, "active_field", ptr),
    )


def _rules(value: Any, ptr: str) -> RuleSet:
    if not isinstance(value, list):
        return RuleSet((Rule("allow", _expr(value, ptr), None, None, ptr),), ptr)
    rules = []
    for i, item in enumerate(value):
        item_ptr = join_pointer(ptr, i)
        effect = "allow" if "allow" in item else "deny"
        rules.append(Rule(effect, _expr(item[effect], join_pointer(item_ptr, effect)), item.get("id"),
                          item.get("description"), item_ptr))
    return RuleSet(tuple(rules), ptr)


def _opt_rules(body: dict[str, Any], key: str, base: str) -> RuleSet | None:
    return _rules(body[key], join_pointer(base, key)) if key in body else None


def _field(name: str, body: Any, ptr: str) -> Field:
    if isinstance(body, str):
        return Field(name=name, type=body.rstrip("?"), pointer=ptr, required=not body.endswith("?"))
    access = body.get("access", {})
    access_ptr = join_pointer(ptr, "access")
    return Field(
        name=name,
        type=body["type"],
        pointer=ptr,
        required=body.get("required", True),
        has_default="default" in body,
        default=body.get("default"),
        auto=body.get("auto"),
        unique=body.get("unique", False),
        index=body.get("index", False),
        read_only=body.get("read_only", False) or "auto" in body,
        write_once=body.get("write_once", False),
        renamed_from=body.get("renamed_from"),
        column=body.get("column"),
        min_length=body.get("min_length"),
        max_length=body.get("max_length"),
        pattern=body.get("pattern"),
        min=body.get("min"),
        max=body.get("max"),
        precision=body.get("precision"),
        scale=body.get("scale"),
        values=tuple(body.get("values", ())),
        slug_from=_ref(body, "from", ptr),
        to=_ref(body, "to", ptr),
        on_delete=body.get("on_delete"),
        via=_ref(body, "via", ptr),
        through=body.get("through"),
        access_read=_opt_rules(access, "read", access_ptr),
        access_write=_opt_rules(access, "write", access_ptr),
        description=body.get("description"),
        has_example="example" in body,
        example=body.get("example"),
        options=frozenset(body),
    )


def _fields(body: dict[str, Any], ptr: str) -> tuple[Field, ...]:
    return tuple(_field(n, b, join_pointer(ptr, n)) for n, b in body.items())


def _synthesized(name: str, body: dict[str, Any], ptr: str, auth: Auth | None, declared: set[str]) -> list[Field]:
    """Implicit fields, in a fixed order. Skipped where a declared field has the name (a check reports it)."""
    out = [Field("id", "integer" if body.get("id") == "integer" else "uuid", ptr, read_only=True, unique=True,
                 synthesized=True)]
    if body.get("timestamps", True):
        out += [Field("created_at", "datetime", ptr, read_only=True, synthesized=True),
                Field("updated_at", "datetime", ptr, read_only=True, synthesized=True)]
    if body.get("soft_delete", False):
        out.append(Field("deleted_at", "datetime", ptr, required=False, read_only=True, synthesized=True))
    if auth is not None and auth.user.name == name:
        roles = tuple(r.name for r in auth.roles)
        out.append(Field("role", "enum", auth.pointer, values=roles, read_only=True, synthesized=True,
                         has_default=True, default=(auth.default_role.name if auth.default_role else roles[0])))
    if "workflow" in body:
        wf = body["workflow"]
        out.append(Field(wf.get("field", "status"), "enum", join_pointer(ptr, "workflow"),
                         values=tuple(wf["states"]), read_only=True, synthesized=True,
                         has_default=True, default=wf["initial"]))
    return [f for f in out if f.name not in declared]


def _entity(name: str, body: dict[str, Any], ptr: str, auth: Auth | None) -> Entity:
    declared = _fields(body["fields"], join_pointer(ptr, "fields"))
    synthesized = _synthesized(name, body, ptr, auth, {f.name for f in declared})
    api = body.get("api", {})
    api_ptr = join_pointer(ptr, "api")
    envelope = api.get("envelope")
    perms_ptr = join_pointer(ptr, "permissions") if "permissions" in body else None
    return Entity(
        name=name,
        pointer=ptr,
        fields=tuple(synthesized[:1]) + declared + tuple(synthesized[1:]),
        computed=tuple(
            Computed(n, c["type"], _expr(c["expr"], join_pointer(ptr, "computed", n, "expr")),
                     join_pointer(ptr, "computed", n), c.get("precision"), c.get("scale"),
                     c.get("rounding", "half_even"), c.get("description"))
            for n, c in body.get("computed", {}).items()
        ),
        description=body.get("description"),
        plural=body.get("plural"),
        table=body.get("table"),
        renamed_from=body.get("renamed_from"),
        id_strategy=body.get("id", "uuid"),
        timestamps=body.get("timestamps", True),
        soft_delete=body.get("soft_delete", False),
        audit=body.get("audit", False),
        unique=_ref_groups(body, "unique", ptr),
        indexes=_ref_groups(body, "indexes", ptr),
        ordering=_refs(body, "ordering", ptr),
        operations=tuple(op for op in OPERATIONS if op in body.get("operations", OPERATIONS)),
        filters=_refs(body, "filters", ptr),
        sort=_refs(body, "sort", ptr),
        include=_refs(body, "include", ptr),
        api=EntityApi(
            path=api.get("path"),
            lookup=_ref(api, "lookup", api_ptr),
            envelope=envelope if isinstance(envelope, bool) else (True if isinstance(envelope, dict) else None),
            envelope_one=envelope.get("one") if isinstance(envelope, dict) else None,
            envelope_many=envelope.get("many") if isinstance(envelope, dict) else None,
            envelope_count=envelope.get("count") if isinstance(envelope, dict) else None,
            pagination=api.get("pagination"),
        ),
        permissions=_permissions(body.get("permissions"), perms_ptr),
        permissions_pointer=perms_ptr,
        actions=tuple(_action(n, a, join_pointer(ptr, "actions", n)) for n, a in body.get("actions", {}).items()),
        queries=tuple(
            Query(n, join_pointer(ptr, "queries", n), _expr(q["where"], join_pointer(ptr, "queries", n, "where")),
                  q.get("path"), _refs(q, "sort", join_pointer(ptr, "queries", n)), q.get("description"))
            for n, q in body.get("queries", {}).items()
        ),
        workflow=_workflow(body["workflow"], join_pointer(ptr, "workflow")) if "workflow" in body else None,
        invariants=tuple(
            Invariant(n, _expr(i["check"], join_pointer(ptr, "invariants", n, "check")), i["message"],
                      join_pointer(ptr, "invariants", n))
            for n, i in body.get("invariants", {}).items()
        ),
        notifications=tuple(_notification(n, b, join_pointer(ptr, "notifications", n))
                            for n, b in body.get("notifications", {}).items()),
        hooks=tuple((point, _hook(v, join_pointer(ptr, "hooks", point)))
                    for point, v in body.get("hooks", {}).items()),
    )


def _permissions(body: dict[str, Any] | None, ptr: str | None) -> dict[str, RuleSet]:
    if not body or ptr is None:
        return {}
    out: dict[str, RuleSet] = {}
    for op in OPERATIONS:
        key = op if op in body else ("all" if "all" in body else None)
        if key is not None:
            out[op] = _rules(body[key], join_pointer(ptr, key))
    return out


def _effects(body: dict[str, Any], ptr: str) -> tuple[Effect, ...]:
    out = []
    for i, item in enumerate(body.get("effects", ())):
        (kind, targets), = item.items()
        for target, value in targets.items():
            tptr = join_pointer(ptr, "effects", i, kind, target)
            out.append(Effect(kind, NameRef(target, tptr), _expr(value, tptr)))
    return tuple(out)


def _action(name: str, body: dict[str, Any], ptr: str) -> Action:
    return Action(
        name=name,
        pointer=ptr,
        method=body.get("method", "POST"),
        path=body.get("path"),
        input=_fields(body.get("input", {}), join_pointer(ptr, "input")),
        permission=_opt_rules(body, "permission", ptr),
        guard=_opt_expr(body, "guard", ptr),
        effects=_effects(body, ptr),
        description=body.get("description"),
        hook=_opt_hook(body, "hook", ptr),
    )


def _transition(name: str, body: dict[str, Any], ptr: str) -> Transition:
    source = body["from"]
    sources = (
        (NameRef(source, join_pointer(ptr, "from")),) if isinstance(source, str)
        else tuple(NameRef(s, join_pointer(ptr, "from", i)) for i, s in enumerate(source))
    )
    approvals = None
    if "approvals" in body:
        a, aptr = body["approvals"], join_pointer(ptr, "approvals")
        approvals = Approvals(
            steps=tuple(
                ApprovalStep(NameRef(s["role"], join_pointer(aptr, "steps", i, "role")),
                             _opt_expr(s, "when", join_pointer(aptr, "steps", i)), join_pointer(aptr, "steps", i))
                for i, s in enumerate(a["steps"])
            ),
            exclude=_opt_expr(a, "exclude", aptr),
            distinct=a.get("distinct", True),
            pointer=aptr,
        )
    return Transition(
        name=name,
        pointer=ptr,
        sources=sources,
        target=NameRef(body["to"], join_pointer(ptr, "to")),
        roles=_refs(body, "roles", ptr),
        permission=_opt_rules(body, "permission", ptr),
        guard=_opt_expr(body, "guard", ptr),
        input=_fields(body.get("input", {}), join_pointer(ptr, "input")),
        effects=_effects(body, ptr),
        approvals=approvals,
        path=body.get("path"),
        description=body.get("description"),
        hook=_opt_hook(body, "hook", ptr),
    )


def _workflow(body: dict[str, Any], ptr: str) -> Workflow:
    return Workflow(
        pointer=ptr,
        field=body.get("field", "status"),
        states=_refs(body, "states", ptr),
        initial=NameRef(body["initial"], join_pointer(ptr, "initial")),
        final=_refs(body, "final", ptr),
        transitions=tuple(_transition(n, t, join_pointer(ptr, "transitions", n))
                          for n, t in body["transitions"].items()),
        frozen=tuple(
            Frozen(_refs(f, "in", join_pointer(ptr, "frozen", i)), _refs(f, "fields", join_pointer(ptr, "frozen", i)),
                   _ref(f, "return_to", join_pointer(ptr, "frozen", i)), join_pointer(ptr, "frozen", i))
            for i, f in enumerate(body.get("frozen", ()))
        ),
    )


def _notification(name: str, body: dict[str, Any], ptr: str) -> Notification:
    return Notification(
        name=name,
        pointer=ptr,
        event=body["event"],
        field=_ref(body, "field", ptr),
        transitions=_refs(body, "transitions", ptr),
        to=_expr(body["to"], join_pointer(ptr, "to")),
        message=body.get("message"),
    )
