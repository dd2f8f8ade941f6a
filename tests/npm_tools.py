"""npm packages the tests run (Redocly's linter, Mermaid's parser), installed once into .cache/.

Pinned versions, one directory per set of packages. An install goes to a staging directory
renamed into place when complete, so a broken or half-done install is never taken for the
cache, and two runs installing at once do not trip over each other. Without npm (or when
the install fails) the caller's test is skipped with the reason, or fails when
KEEL_REQUIRE_LINT=1 (as in CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

from tests.conftest import REPO

CACHE = REPO / ".cache"  # holds its own .gitignore ("*"), so nothing in it is ever committed


def unavailable(tool: str, reason: str) -> NoReturn:
    if os.environ.get("KEEL_REQUIRE_LINT") == "1":
        pytest.fail(f"{tool} is required (KEEL_REQUIRE_LINT=1) but {reason}")
    pytest.skip(f"{tool} not run: {reason} (set KEEL_REQUIRE_LINT=1 to make this a failure)")


def npm_install(tool: str, name: str, packages: list[str], done: Path, timeout: int = 600) -> Path:
    """``.cache/<name>`` holding ``packages`` (``npm install --prefix``); ``done`` is a path inside it
    that exists once installed. Returns the directory."""
    prefix = CACHE / name
    if (prefix / done).exists():
        return prefix
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        unavailable(tool, "npm or node is not installed")
    CACHE.mkdir(exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    staging = CACHE / f"{name}.{os.getpid()}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    what = " ".join(packages)
    try:
        result = subprocess.run([npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund",
                                 "--loglevel=error", *packages],
                                capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        unavailable(tool, f"`npm install {what}` timed out")
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        unavailable(tool, f"`npm install {what}` failed: {result.stderr[-2000:]}")
    try:
        staging.rename(prefix)  # whole or not at all
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return prefix
