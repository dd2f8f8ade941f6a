"""The spec's own scenarios as a test module of the generated app: tests/test_spec_scenarios.py.

The scenarios are data, ``tests/spec_scenarios.json`` (built here from the IR's
``ScenarioIR``s); one generic, parametrized test plays each of them. A scenario's
users become rows of the user entity, made like the suite's personas (sample values,
the scenario's role, active), with the test password; the test signs them in.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from generator.ir.nodes import AppIR
from generator.targets.scenarios import NoScenario, Persona, Planner
from generator.targets.tests import _step_json

__all__ = ["spec_scenario_document", "spec_scenario_files"]


def _users(ir: AppIR, users: tuple[Any, ...]) -> list[dict[str, Any]]:
    if ir.auth is None or not users:
        return []
    planner = Planner(ir, personas=[Persona(u.name, u.role) for u in users])
    try:
        steps = planner.add_personas()
    except NoScenario as exc:  # the user entity needs a reference no scenario can give
        raise ValueError(f"cannot make scenario users: {exc}") from None
    return [_step_json(ir, step) for step in steps]


def _step(step: Any) -> dict[str, Any]:
    out = dataclasses.asdict(step)
    out["path"] = list(step.path)
    return out


def spec_scenario_document(ir: AppIR, note: str) -> dict[str, Any]:
    """tests/spec_scenarios.json: every scenario with its users' rows and its resolved steps."""
    return {
        "_comment": note,
        "scenarios": {
            s.name: {"description": s.description, "source": s.source, "users": _users(ir, s.users),
                     "steps": [_step(step) for step in s.steps]}
            for s in ir.scenarios
        },
    }


def spec_scenario_files(ir: AppIR, header: str) -> list[Any]:
    """The files for ``plan_files``: nothing when the spec has no scenarios."""
    from generator.targets import JsonFile, TemplateFile  # lazily: generator.targets imports this module

    if not ir.scenarios:
        return []
    note = header.replace("# ", "").replace("\n", " ")
    context = {"header": header, "package": ir.package, "spec_file": ir.spec_file, "has_auth": ir.auth is not None}
    return [
        JsonFile("tests/spec_scenarios.json", spec_scenario_document(ir, note)),
        TemplateFile("tests/test_spec_scenarios.py", "app/tests/test_spec_scenarios.py.j2", context),
    ]
