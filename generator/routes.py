"""Every HTTP endpoint a spec produces: method, path, and the spec node behind it.

One function, used by the checks (conflicting paths, undeclared parameters) and
by the generator (routers, OpenAPI), so both always agree on the URL space.
Static paths are listed before parameterised ones of the same shape, which is
also the order the generated routers register them in (``/articles/feed`` wins
over ``/articles/{slug}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.model.spec import Entity, Spec
from generator.naming import kebab, pluralize, snake

PARAM = re.compile(r"\{([^{}]*)\}")
AUTH_ENDPOINTS = (("POST", "/auth/login", "login"), ("POST", "/auth/signup", "signup"), ("GET", "/me", "me"))


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str  # full path, prefix included
    kind: str  # list | read | create | update | delete | action | transition | query | auth
    entity: str | None
    name: str
    pointer: str  # spec node that declares it (for diagnostics)
    custom_path: bool = False  # written by the user (so its parameters must be checked)

    @property
    def shape(self) -> str:
        """The path with parameter names erased: two endpoints with one shape and method collide."""
        return PARAM.sub("{}", self.path)


def collection_path(entity: Entity) -> str:
    if entity.api.path:
        return entity.api.path
    return "/" + kebab(entity.plural or pluralize(snake(entity.name)))


def lookup_field(entity: Entity) -> str:
    return entity.api.lookup.name if entity.api.lookup else "id"


def entity_endpoints(spec: Spec, entity: Entity) -> list[Endpoint]:
    prefix = spec.api.prefix
    base = prefix + collection_path(entity)
    item = f"{base}/{{{lookup_field(entity)}}}"
    ops = {"list": ("GET", base), "create": ("POST", base), "read": ("GET", item), "update": ("PATCH", item),
           "delete": ("DELETE", item)}
    out = [Endpoint(m, p, op, entity.name, op, entity.pointer) for op, (m, p) in ops.items() if op in entity.operations]
    for q in entity.queries:
        path = prefix + q.path if q.path else f"{base}/{kebab(q.name)}"
        out.append(Endpoint("GET", path, "query", entity.name, q.name, q.pointer, q.path is not None))
    for a in entity.actions:
        path = prefix + a.path if a.path else f"{item}/{kebab(a.name)}"
        out.append(Endpoint(a.method, path, "action", entity.name, a.name, a.pointer, a.path is not None))
    if entity.workflow is not None:
        for t in entity.workflow.transitions:
            path = prefix + t.path if t.path else f"{item}/{kebab(t.name)}"
            out.append(Endpoint("POST", path, "transition", entity.name, t.name, t.pointer, t.path is not None))
    return out


def all_endpoints(spec: Spec) -> list[Endpoint]:
    out: list[Endpoint] = []
    if spec.auth is not None:
        for method, path, name in AUTH_ENDPOINTS:
            if name != "signup" or spec.auth.signup:
                out.append(Endpoint(method, spec.api.prefix + path, "auth", None, name, spec.auth.pointer))
    for entity in spec.entities:
        out.extend(entity_endpoints(spec, entity))
    return out
