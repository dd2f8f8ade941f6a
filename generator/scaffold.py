"""`keel init NAME`: a new spec, rendered from templates/init, that validates as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

from generator.paths import spec_schema_file, templates_dir

APP_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}\Z")


class InitError(Exception):
    """A usage problem (bad name, existing directory): reported, exit code 2."""


def create_spec(name: str, parent: Path) -> Path:
    if not APP_NAME.match(name):
        raise InitError(f"`{name}` is not a valid app name: use snake_case letters, digits and _ (e.g. task_manager)")
    target = parent / name
    if target.exists():
        raise InitError(f"{target} already exists; choose another name or --dir")
    text = render_init(name, target)
    try:
        target.mkdir(parents=True)
        (target / "keel.yaml").write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InitError(f"cannot create {target}: {exc.strerror}") from exc
    return target / "keel.yaml"


def render_init(name: str, target: Path) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(templates_dir() / "init"), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    schema_ref = os.path.relpath(spec_schema_file(), target.resolve())
    title = name.replace("_", " ").title()
    return env.get_template("keel.yaml.j2").render(name=name, title=title, schema_ref=schema_ref.replace(os.sep, "/"))
