"""Stage 4: semantic checks over the typed spec model.

Each module checks one concern and reports through ``CheckContext``; they all
run, so one pass reports every problem. Order only matters for readability of
the output, which is sorted by position anyway.
"""

from __future__ import annotations

from generator.checks.context import CheckContext
from generator.checks.endpoints import check_endpoints
from generator.checks.evolution import check_evolution
from generator.checks.expressions import check_expressions
from generator.checks.fields import check_fields
from generator.checks.names import check_names
from generator.checks.references import check_references
from generator.checks.relations import check_relations
from generator.checks.scenarios import check_scenarios
from generator.checks.usage import check_usage
from generator.checks.workflow import check_workflows
from generator.diagnostics import Diagnostic
from generator.loader.sourcemap import SourceMap
from generator.model.spec import Spec

__all__ = ["run_checks"]


def run_checks(spec: Spec, source_map: SourceMap) -> list[Diagnostic]:
    ctx = CheckContext(spec, source_map)
    check_names(ctx)
    check_references(ctx)
    check_fields(ctx)
    check_relations(ctx)
    check_workflows(ctx)
    literals = check_expressions(ctx)
    check_endpoints(ctx)
    check_usage(ctx, literals)
    check_evolution(ctx)
    check_scenarios(ctx)  # last: coverage (K970) is computed only when the rest is sound
    return ctx.diagnostics
