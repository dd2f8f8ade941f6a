"""Spec-declared scenarios as typed, immutable values (the ``scenarios:`` section).

A scenario is a small story the generated app must play out: its users (name ->
role), ``given`` steps that set records up and must succeed, and ``then`` steps
with the answers they must get. Each step is one request: exactly one of
``list``, ``read``, ``create``, ``update``, ``delete``, ``do`` (a transition or an
action) or ``query``. Values are kept as the YAML gave them (``$name`` strings
refer to a saved record or a user); ``generator.checks.scenarios`` checks them and
``generator.ir.spec_scenarios`` resolves them into requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.loader.sourcemap import join_pointer
from generator.model.spec import NameRef

__all__ = ["STEP_OPERATIONS", "Expectation", "Scenario", "ScenarioStep", "build_scenarios", "is_ref", "ref_name"]

STEP_OPERATIONS = ("list", "read", "create", "update", "delete", "do", "query")


def is_ref(value: Any) -> bool:
    """``$name`` (a saved record or a user); ``$$text`` is the literal ``$text``."""
    return isinstance(value, str) and value.startswith("$") and not value.startswith("$$")


def ref_name(value: str) -> str:
    return value[1:]


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a step must answer. ``status`` None: any 2xx (given steps only)."""

    status: int | None
    count: int | None
    body: dict[str, Any] | None
    code: str | None
    rule: str | None
    pointer: str


@dataclass(frozen=True, slots=True)
class ScenarioStep:
    phase: str  # given | then
    index: int
    pointer: str
    actor: NameRef | None  # a scenario user; None: anonymous
    ops: tuple[tuple[str, NameRef], ...]  # (operation, its target as written); checks require exactly one
    values: dict[str, Any]  # with:
    params: dict[str, Any]
    save: NameRef | None
    expect: Expectation | None

    @property
    def op(self) -> str:
        return self.ops[0][0]

    @property
    def target(self) -> NameRef:
        return self.ops[0][1]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    pointer: str
    description: str
    users: tuple[tuple[NameRef, NameRef], ...]  # (user name, role)
    steps: tuple[ScenarioStep, ...]  # given steps, then the then steps


def build_scenarios(doc: dict[str, Any]) -> tuple[Scenario, ...]:
    """The document's scenarios (already shaped by the JSON Schema), in the order written."""
    out = []
    for name, body in (doc.get("scenarios") or {}).items():
        ptr = join_pointer("/scenarios", name)
        users = tuple((NameRef(user, join_pointer(ptr, "users", user)), NameRef(role, join_pointer(ptr, "users", user)))
                      for user, role in (body.get("users") or {}).items())
        steps = [_step(phase, i, s, join_pointer(ptr, phase, i))
                 for phase in ("given", "then") for i, s in enumerate(body.get(phase) or ())]
        out.append(Scenario(name, ptr, body.get("description", ""), users, tuple(steps)))
    return tuple(out)


def _step(phase: str, index: int, body: dict[str, Any], ptr: str) -> ScenarioStep:
    ops = tuple((op, NameRef(body[op], join_pointer(ptr, op))) for op in STEP_OPERATIONS if op in body)
    actor = NameRef(body["as"], join_pointer(ptr, "as")) if "as" in body else None
    save = NameRef(body["save"], join_pointer(ptr, "save")) if "save" in body else None
    return ScenarioStep(phase, index, ptr, actor, ops, dict(body.get("with") or {}), dict(body.get("params") or {}),
                        save, _expect(body["expect"], join_pointer(ptr, "expect")) if "expect" in body else None)


def _expect(value: Any, ptr: str) -> Expectation:
    if isinstance(value, int):
        return Expectation(value, None, None, None, None, ptr)
    return Expectation(value.get("status"), value.get("count"), value.get("body"), value.get("code"),
                       value.get("rule"), ptr)
