"""Where Keel's shipped files live, in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """``templates/`` is shipped inside the wheel as ``generator/templates``; a checkout has it at the top."""
    installed = _PACKAGE / "templates"
    return installed if installed.is_dir() else _PACKAGE.parent / "templates"


def spec_schema_file() -> Path:
    return _PACKAGE / "schema" / "keel-spec.schema.json"
