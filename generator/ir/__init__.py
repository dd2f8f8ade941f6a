"""Stage 5: the typed, immutable intermediate representation that templates render."""

from __future__ import annotations

import dataclasses
import json

from generator.ir.build import build_ir, constraint_name
from generator.ir.nodes import AppIR, ColumnIR, EntityIR, LinkTableIR, RelationIR

__all__ = ["AppIR", "ColumnIR", "EntityIR", "LinkTableIR", "RelationIR", "build_ir", "constraint_name", "dump_ir"]


def dump_ir(ir: AppIR) -> str:
    """The IR as sorted, stable JSON: for debugging the pipeline and for tests to pin."""
    return json.dumps(dataclasses.asdict(ir), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
