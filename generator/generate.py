"""Stages 6-7: render the planned files with Jinja and format them; returns bytes, touches no disk.

A pure function of the IR: the writer (generator.writer) is the only code that
writes. Spec text only ever reaches a template as context, never as template
source, and Jinja runs with StrictUndefined so a missing value is a Keel bug
caught in tests, not a silently empty string in generated code.
"""

from __future__ import annotations

import json
from functools import lru_cache

from generator.formatting import format_python
from generator.ir.nodes import AppIR
from generator.paths import templates_dir
from generator.targets import JsonFile, TemplateFile, plan_files

__all__ = ["render_files"]


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(templates_dir()),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render_files(ir: AppIR) -> dict[str, bytes]:
    """Every output file's exact bytes, keyed by POSIX path relative to the output directory."""
    out: dict[str, bytes] = {}
    for planned in plan_files(ir):
        if isinstance(planned, TemplateFile):
            text = _environment().get_template(planned.template).render(**planned.context)
            if planned.path.endswith(".py"):  # TOML and Markdown are rendered as written
                text = format_python(text)
                compile(text, planned.path, "exec")  # a generated module that does not compile is a Keel bug
        elif isinstance(planned, JsonFile):
            text = json.dumps(planned.document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        else:  # pragma: no cover
            raise TypeError(planned)
        out[planned.path] = text.encode("utf-8")
    return dict(sorted(out.items()))
