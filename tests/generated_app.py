"""Helpers to render an example spec's generated code into a directory and import it."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from generator.generate import render_files
from generator.ir import build_ir
from generator.pipeline import validate_path
from generator.writer import MANIFEST, manifest_bytes


def render_into(spec: Path, out: Path) -> dict[str, bytes]:
    result = validate_path(spec)
    assert result.ok, result.diagnostics
    files = render_files(build_ir(result.spec, result.source_map, result.root))
    for rel, data in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # As `keel generate` does: the manifest records where the spec is, which is where an app with
    # extensions finds its user modules (extensions.py) when APP_EXTENSIONS_DIR is not set.
    spec_ref = Path(os.path.relpath(result.root, os.path.abspath(out))).as_posix()
    (out / MANIFEST).write_bytes(manifest_bytes(files, spec_ref))
    return files


def import_package_module(out: Path, module: str, fresh: bool = True):
    """Import ``module`` from ``out``; ``fresh`` first forgets any earlier import of its package."""
    package = module.split(".")[0]
    if fresh:
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(out))
