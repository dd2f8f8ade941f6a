"""Stages 6-7: render the planned files with Jinja and format them; returns bytes, touches no disk.

A pure function of the IR: the writer (generator.writer) is the only code that
writes. Spec text only ever reaches a template as context, never as template
source, and Jinja runs with StrictUndefined so a missing value is a Keel bug
caught in tests, not a silently empty string in generated code.
"""

from __future__ import annotations

import json
from functools import lru_cache

from generator.formatting import cache_root, format_python_many
from generator.ir.nodes import AppIR
from generator.paths import templates_dir
from generator.targets import JsonFile, TemplateFile, header, plan_files
from generator.targets.revisions import MigrationRefused, Previous, plan_history

__all__ = ["MigrationRefused", "render_files"]


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from generator.layout import call, frozenset_of, from_import, list_comprehension, parenthesized, signature

    environment = Environment(
        loader=FileSystemLoader(templates_dir()),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
    )
    # Layout only (black still formats every file): see generator/layout.py.
    environment.filters.update(call=call, from_import=from_import, frozenset_of=frozenset_of,
                               list_comprehension=list_comprehension, parenthesized=parenthesized,
                               signature=signature)
    return environment


def _bytecode_cache():
    """Compiled templates kept in the user cache (``jinja/`` beside generator.formatting's entries).

    Compiling the templates is most of what regenerating an unchanged spec costs once the
    formatted output is cached. Jinja checks an entry against the template's source and the
    Python version; one that cannot be read is recompiled, never an error; the directory is
    looked up on each use, so ``KEEL_NO_CACHE`` and ``KEEL_CACHE_DIR`` apply as they change.
    """
    import os
    import tempfile

    from jinja2 import BytecodeCache

    class UserBytecodeCache(BytecodeCache):
        def load_bytecode(self, bucket):  # type: ignore[no-untyped-def]
            root = cache_root()
            if root is not None:
                try:
                    with open(root / "jinja" / f"{bucket.key}.cache", "rb") as f:
                        bucket.load_bytecode(f)
                except Exception:  # noqa: BLE001 - absent or corrupt: compile from source
                    bucket.reset()

        def dump_bytecode(self, bucket):  # type: ignore[no-untyped-def]
            root = cache_root()
            if root is None:
                return
            tmp = None
            try:
                (root / "jinja").mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=root / "jinja", prefix=".tmp-")
                with os.fdopen(fd, "wb") as f:
                    bucket.write_bytecode(f)
                os.replace(tmp, root / "jinja" / f"{bucket.key}.cache")
                tmp = None
            except OSError:
                pass
            finally:
                if tmp is not None:
                    try:
                        os.unlink(tmp)
                    except OSError:
                        pass

    return UserBytecodeCache()


def render_files(ir: AppIR, previous: Previous | None = None, allow_destructive: bool = False) -> dict[str, bytes]:
    """Every output file's exact bytes, keyed by POSIX path relative to the output directory.

    ``previous`` is the migration history the output directory already holds
    (``generator.targets.revisions.read_previous``); with it, earlier revisions are kept and a
    schema change becomes a new revision. Raises ``MigrationRefused`` for a change that would
    lose data (unless ``allow_destructive``) or that stored rows cannot satisfy.
    """
    texts: dict[str, str] = {}
    python: list[str] = []  # formatted together below: cached, and in parallel when that pays
    dumped: dict[int, str] = {}
    planned_files = plan_files(ir)  # kept alive while ``dumped`` is keyed by its documents' ids
    for planned in planned_files:
        if isinstance(planned, TemplateFile):
            texts[planned.path] = _environment().get_template(planned.template).render(**planned.context)
            if planned.path.endswith(".py"):  # TOML and Markdown are rendered as written
                python.append(planned.path)
        elif isinstance(planned, JsonFile):
            # The same document may be written twice (openapi.json beside the app and inside it):
            # serialised once, since at 200 entities that is 10 MB of indented JSON.
            key = id(planned.document)
            if key not in dumped:
                dumped[key] = json.dumps(planned.document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            texts[planned.path] = dumped[key]
        else:  # pragma: no cover
            raise TypeError(planned)
    history = plan_history(ir, header(ir), lambda template, context: _environment().get_template(template).render(
        **context), previous, allow_destructive)
    for path in history.drop:
        texts.pop(path, None)
        if path in python:
            python.remove(path)
    texts.update(history.texts)
    python += [p for p in history.texts if p.endswith(".py")]
    # Each is also compiled (or known to compile): a generated module that does not compile is a Keel bug.
    texts.update(zip(python, format_python_many([texts[p] for p in python], filenames=python)))
    files = {path: text.encode("utf-8") for path, text in texts.items()}
    files.update(history.verbatim)  # earlier revisions, byte for byte
    return dict(sorted(files.items()))
