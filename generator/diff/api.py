"""The HTTP API, old against new: endpoints, their paths, methods and operation ids, query
parameters, success statuses, command inputs and the API-wide conventions.

Endpoints are paired by what they are (entity, kind, name: ``Task``'s ``update``, its
``start`` transition), not by URL, so a moved endpoint is reported as ``path-changed``
rather than removed plus added. Query parameters and statuses are read from the
OpenAPI document Keel generates from each IR (``generator.targets.openapi``): exactly
what the generated app accepts and answers.
"""

from __future__ import annotations

from typing import Any

from generator.diff.columns import compare_columns
from generator.diff.entities import EntityPair
from generator.diff.model import Change, Location, Version, change
from generator.ir.nodes import EndpointIR

__all__ = ["compare_api"]

_KIND_POINTER = {"query": "queries", "action": "actions"}


def compare_api(old: Version, new: Version, pairs: list[EntityPair]) -> list[Change]:
    renames = {p.old.name: p.new.name for p in pairs}
    out = _settings(old, new)
    before = _endpoints(old, renames)
    after = _endpoints(new, {})
    docs = (_openapi(old), _openapi(new))
    paired = {p.new.name for p in pairs}  # endpoints of a removed or added entity: entity-removed/-added say so
    for key, (ep, entity) in after.items():
        if key[0] is not None and key[0] not in paired:
            continue
        if key not in before:
            out.append(change("operation-added", _target(key), f"new endpoint {ep.method} {ep.path}", None,
                              _where(new, entity, key)))
            continue
        ep0, entity0 = before[key][0], before[key][1]
        at = (_where(old, entity0, key), _where(new, entity, key))
        target = _target(key)
        if ep0.path != ep.path:
            out.append(change("path-changed", target, f"{ep0.method} {ep0.path} moved to {ep.path}", *at,
                              details={"from": ep0.path, "to": ep.path}))
        if ep0.method != ep.method:
            out.append(change("method-changed", target, f"{ep0.path} is now {ep.method} instead of {ep0.method}",
                              *at, details={"from": ep0.method, "to": ep.method}))
        if ep0.operation_id != ep.operation_id and ep0.path == ep.path and ep0.method == ep.method:
            out.append(change("operation-id-changed", target, f"operationId of {ep.method} {ep.path} changed from "
                              f"`{ep0.operation_id}` to `{ep.operation_id}`", *at,
                              details={"from": ep0.operation_id, "to": ep.operation_id}))
        out += _operation_doc(target, ep0, ep, docs, at,
                              lambda name, e0=entity0, e1=entity: (_param_at(old, e0, name), _param_at(new, e1, name)))
    for key, (ep0, entity0) in before.items():
        if key not in after and (key[0] is None or key[0] in paired):
            out.append(change("operation-removed", _target(key), f"endpoint {ep0.method} {ep0.path} was removed",
                              _where(old, entity0, key), _where(new, _renamed_entity(new, key), None)))
    for p in pairs:
        out += _entity_conventions(old, new, p)
        out += _commands(old, new, p)
    return out


def _target(key: tuple[str | None, str, str]) -> str:
    entity, kind, name = key
    if entity is None:
        return f"auth.{name}"
    return f"{entity}.{name}" if kind in ("query", "action", "transition") else f"{entity}.{kind}"


def _endpoints(v: Version, renames: dict[str, str]) -> dict[tuple, tuple[EndpointIR, str | None]]:
    out: dict[tuple, tuple[EndpointIR, str | None]] = {}
    for ep in v.ir.endpoints:
        if ep.kind == "auth":
            out[(None, "auth", ep.name)] = (ep, None)
    for e in v.ir.entities:
        for ep in e.endpoints:
            out[(renames.get(e.name, e.name), ep.kind, ep.name)] = (ep, e.name)
    return out


def _renamed_entity(v: Version, key: tuple) -> str | None:
    return key[0] if key[0] is not None and v.spec.entity(key[0]) is not None else None


def _where(v: Version, entity: str | None, key: tuple | None) -> Location | None:
    """The spec node behind an endpoint: the action, transition or query, else its entity (or auth)."""
    if entity is None:
        return v.locate("/auth") if key is not None and key[1] == "auth" else None
    spec_entity = v.spec.entity(entity)
    if spec_entity is None:
        return None
    if key is not None and key[1] in ("query", "action", "transition"):
        section = _KIND_POINTER.get(key[1])
        if section is not None:
            return v.locate(f"{spec_entity.pointer}/{section}/{key[2]}")
        if spec_entity.workflow is not None:
            return v.locate(f"{spec_entity.workflow.pointer}/transitions/{key[2]}")
    return v.locate(spec_entity.pointer)


def _openapi(v: Version) -> dict[str, Any]:
    from generator.targets.openapi import openapi_document

    return openapi_document(v.ir)


def _param_at(v: Version, entity: str | None, name: str) -> Location | None:
    """Where a query parameter comes from: the entity's include, sort or filters list (or the entity)."""
    spec_entity = v.spec.entity(entity) if entity else None
    if spec_entity is None:
        return None
    section = name if name in ("include", "sort") else "filters"
    return v.locate(f"{spec_entity.pointer}/{section}")


def _operation_doc(target: str, ep0: EndpointIR, ep: EndpointIR, docs, at,  # type: ignore[no-untyped-def]
                   param_at=None) -> list[Change]:
    a = docs[0].get("paths", {}).get(ep0.path, {}).get(ep0.method.lower())
    b = docs[1].get("paths", {}).get(ep.path, {}).get(ep.method.lower())
    if not a or not b:
        return []
    out = []
    params0, params1 = _query_params(docs[0], a), _query_params(docs[1], b)
    where = param_at or (lambda name: at)
    for name in sorted(set(params0) - set(params1)):
        out.append(change("parameter-removed", f"{target}?{name}", f"{ep.method} {ep.path} no longer accepts the "
                          f"query parameter `{name}`: requests using it get 400", *where(name),
                          details={"parameter": name}))
    for name in sorted(set(params1) - set(params0)):
        required = params1[name].get("required", False)
        out.append(change("parameter-added", f"{target}?{name}", f"{ep.method} {ep.path} accepts a new "
                          f"{'required' if required else 'optional'} query parameter `{name}`", *where(name),
                          breaking=required, category="api-breaking" if required else "safe",
                          details={"parameter": name}))
    for name in sorted(set(params0) & set(params1)):
        keys0, keys1 = _sort_keys(params0[name]), _sort_keys(params1[name])
        for key in sorted(keys0 - keys1):
            out.append(change("parameter-removed", f"{target}?{name}={key}", f"{ep.method} {ep.path} no longer "
                              f"accepts `{name}={key}`", *where(name), details={"parameter": name, "value": key}))
    ok0 = {s for s in a.get("responses", {}) if s.startswith("2")}
    ok1 = {s for s in b.get("responses", {}) if s.startswith("2")}
    for status in sorted(ok0 - ok1):
        out.append(change("response-status-removed", target, f"{ep.method} {ep.path} no longer answers {status}"
                          + (f" (now {', '.join(sorted(ok1))})" if ok1 else ""), *at,
                          details={"from": sorted(ok0), "to": sorted(ok1)}))
    return out


def _query_params(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for p in op.get("parameters", []):
        if "$ref" in p:
            p = doc.get("components", {}).get("parameters", {}).get(p["$ref"].rsplit("/", 1)[-1], {})
        if p.get("in") == "query":
            out[p["name"]] = p
    return out


def _sort_keys(param: dict[str, Any]) -> set[str]:
    """The values a parameter takes from a closed list (``sort`` keys, ``include`` names)."""
    schema = param.get("schema", {})
    values = schema.get("enum") or schema.get("items", {}).get("enum")
    if values:
        return {str(v) for v in values}
    pattern = schema.get("pattern", "")
    if pattern.startswith("^-?(") and ")" in pattern:
        return set(pattern[4:pattern.index(")")].split("|"))
    return set()


_SETTINGS = (
    ("prefix", "every path starts with"),
    ("wire_names", "field names on the wire are written in"),
    ("error_format", "errors are sent as"),
    ("validation_status", "invalid requests get status"),
    ("auth_scheme", "the Authorization header's scheme is"),
)


def _settings(old: Version, new: Version) -> list[Change]:
    out = []
    at = (old.locate("/api"), new.locate("/api"))
    for attr, words in _SETTINGS:
        a, b = getattr(old.ir, attr), getattr(new.ir, attr)
        if a != b and attr != "prefix":  # a new prefix moves every path: path-changed says so per endpoint
            out.append(change("response-format-changed", f"api.{attr}", f"{words} {b!r} instead of {a!r}", *at,
                              details={"from": a, "to": b}))
    if new.ir.page_size_max < old.ir.page_size_max:
        out.append(change("page-size-max-decreased", "api.page_size.max", f"the largest page went from "
                          f"{old.ir.page_size_max} to {new.ir.page_size_max}: a larger `limit` is refused", *at,
                          details={"from": old.ir.page_size_max, "to": new.ir.page_size_max}))
    if new.ir.page_size_default != old.ir.page_size_default:
        out.append(change("page-size-default-changed", "api.page_size.default", f"lists without `limit` return "
                          f"{new.ir.page_size_default} items instead of {old.ir.page_size_default}", *at,
                          details={"from": old.ir.page_size_default, "to": new.ir.page_size_default}))
    return out


def _entity_conventions(old: Version, new: Version, p: EntityPair) -> list[Change]:
    out = []
    at = (old.locate(p.old_spec.pointer), new.locate(p.new_spec.pointer))
    for attr in ("envelope", "envelope_one", "envelope_many", "envelope_count", "pagination"):
        a, b = getattr(p.old, attr), getattr(p.new, attr)
        if a != b and (attr in ("envelope", "pagination") or p.new.envelope):
            out.append(change("response-format-changed", f"{p.new.name}.api.{attr}", f"`{p.new.name}` {attr} is "
                              f"{b!r} instead of {a!r}", *at, details={"from": a, "to": b}))
    before = {c.name: c for c in p.old.computed}
    for c in p.new.computed:
        target = f"{p.new.name}.{c.name}"
        where = new.locate(f"{p.new_spec.pointer}/computed/{c.name}")
        if c.name not in before:
            out.append(change("computed-added", target, f"new computed field `{target}`", None, where))
        elif before[c.name].spec_type != c.spec_type:
            c0 = before[c.name]
            out.append(change("computed-type-changed", target, f"computed `{target}` changed from {c0.spec_type} to "
                              f"{c.spec_type}", old.locate(f"{p.old_spec.pointer}/computed/{c.name}"), where,
                              details={"from": c0.spec_type, "to": c.spec_type}))
    names = {c.name for c in p.new.computed}
    for c in p.old.computed:
        if c.name not in names:
            out.append(change("computed-removed", f"{p.new.name}.{c.name}", f"computed field `{p.old.name}.{c.name}` "
                              "was removed from responses", old.locate(f"{p.old_spec.pointer}/computed/{c.name}"),
                              at[1]))
    return out


def _commands(old: Version, new: Version, p: EntityPair) -> list[Change]:
    """Inputs of actions and transitions, and the states transitions go between."""
    out: list[Change] = []
    before = {c.name: c for c in _all_commands(p.old)}
    for c in _all_commands(p.new):
        c0 = before.get(c.name)
        if c0 is None or c0.kind != c.kind:
            continue
        target = f"{p.new.name}.{c.name}"
        key = (p.new.name, c.kind, c.name)
        at = (_where(old, p.old.name, key), _where(new, p.new.name, key))
        inputs0 = {f.name: f for f in c0.input}
        for f in c.input:
            t = f"{target}.input.{f.name}"
            if f.name not in inputs0:
                if f.required_on_create:
                    out.append(change("required-input-added", t, f"`{target}` requires a new input `{f.wire}`", *at,
                                      migration=False))
                else:
                    out.append(change("field-added", t, f"`{target}` takes a new optional input `{f.wire}`",
                                      *at, migration=False))
            else:
                out += compare_columns(t, inputs0[f.name], f, at, entity_field=False)
        names = {f.name for f in c.input}
        for name, f0 in inputs0.items():
            if name not in names:
                out.append(change("input-field-removed", f"{target}.input.{name}", f"`{target}` no longer takes the "
                                  f"input `{f0.wire}`: requests sending it are refused", *at))
        if c.kind == "transition":
            lost = [s for s in c0.sources if s not in c.sources]
            if lost or c0.target != c.target:
                words = []
                if lost:
                    words.append(f"no longer starts from {', '.join(lost)}")
                if c0.target != c.target:
                    words.append(f"ends in {c.target} instead of {c0.target}")
                out.append(change("transition-changed", target, f"transition `{target}` {' and '.join(words)}", *at,
                                  details={"from": {"sources": list(c0.sources), "target": c0.target},
                                           "to": {"sources": list(c.sources), "target": c.target}}))
    return out


def _all_commands(e) -> list:  # type: ignore[no-untyped-def]
    return list(e.workflow.transitions if e.workflow else ()) + list(e.actions)
