"""Stages 6-7: render the planned files with Jinja and format them; returns bytes, touches no disk.

A pure function of the IR: the writer (generator.writer) is the only code that
writes. Spec text only ever reaches a template as context, never as template
source, and Jinja runs with StrictUndefined so a missing value is a Keel bug
caught in tests, not a silently empty string in generated code.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from generator.formatting import FormatBatch, cache_root
from generator.ir.nodes import AppIR
from generator.paths import templates_dir
from generator.targets import JsonFile, TemplateFile, header, plan_files
from generator.targets.revisions import MigrationRefused, Previous, plan_history

__all__ = ["MigrationRefused", "render_files", "render_with_history"]


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


def json_text(document: object) -> str:
    """``json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)`` and a newline, made by orjson.

    orjson writes the same bytes ten times faster (the indenting json encoder is pure Python: 0.7 s
    at 200 entities), except for what it spells differently or refuses: floats in exponent form,
    NaN and infinities, integers beyond 64 bits. A document holding one goes through json.
    """
    import orjson

    if not _orjson_safe(document):
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode("utf-8") + "\n"


def _orjson_safe(document: object) -> bool:
    stack = [document]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is dict:
            if any(type(k) is not str for k in value):  # type: ignore[union-attr]
                return False
            stack.extend(value.values())  # type: ignore[union-attr]
        elif kind is list or kind is tuple:
            stack.extend(value)  # type: ignore[arg-type]
        elif kind is float:
            text = repr(value)
            if "e" in text or "n" in text:  # 1e+16, nan, inf: orjson spells these otherwise
                return False
        elif kind is int and not -(2**63) <= value < 2**64:  # type: ignore[operator]
            return False
        elif kind not in (str, bool, int, type(None)):
            return False
    return True


def render_with_history(ir: AppIR, out_dir: Path, spec_root: Path | None, allow_destructive: bool = False):  # type: ignore[no-untyped-def]
    """``render_files`` with the migration history ``out_dir`` holds: (files, []), or (None, the
    diagnostics of a refused migration: a change that loses data, or an unreadable history)."""
    from generator.targets.revisions import read_previous, refusal_diagnostics

    try:
        return render_files(ir, read_previous(out_dir), allow_destructive), []
    except MigrationRefused as refused:
        return None, refusal_diagnostics(refused.losses, spec_root)


def render_files(ir: AppIR, previous: Previous | None = None, allow_destructive: bool = False) -> dict[str, bytes]:
    """Every output file's exact bytes, keyed by POSIX path relative to the output directory.

    ``previous`` is the migration history the output directory already holds
    (``generator.targets.revisions.read_previous``); with it, earlier revisions are kept and a
    schema change becomes a new revision. Raises ``MigrationRefused`` for a change that would
    lose data (unless ``allow_destructive``) or that stored rows cannot satisfy.
    """
    texts: dict[str, str] = {}
    batch = FormatBatch()  # black runs (cached, in parallel when that pays) while the rest renders
    try:
        dumped: dict[int, str] = {}
        planned_files = plan_files(ir)  # kept alive while ``dumped`` is keyed by its documents' ids
        for planned in planned_files:
            if isinstance(planned, TemplateFile):
                texts[planned.path] = _environment().get_template(planned.template).render(**planned.context)
                if planned.path.endswith(".py"):  # TOML and Markdown are rendered as written
                    batch.add(texts[planned.path], planned.path)
            elif isinstance(planned, JsonFile):
                # The same document may be written twice (openapi.json beside the app and inside it):
                # serialised once, since at 200 entities that is 10 MB of indented JSON.
                key = id(planned.document)
                if key not in dumped:
                    dumped[key] = json_text(planned.document)
                texts[planned.path] = dumped[key]
            else:  # pragma: no cover
                raise TypeError(planned)
        history = plan_history(ir, header(ir), lambda template, context: _environment().get_template(
            template).render(**context), previous, allow_destructive)
        for path, text in history.texts.items():
            if path.endswith(".py"):
                batch.add(text, path)
        # Each is also compiled (or known to compile): a generated module that does not compile is a Keel bug.
        formatted = batch.results()
    except BaseException:
        batch.close()
        raise
    for path in history.drop:
        texts.pop(path, None)
    texts.update(history.texts)
    texts.update({path: text for path, text in formatted.items() if path in texts})
    files = {path: text.encode("utf-8") for path, text in texts.items()}
    files.update(history.verbatim)  # earlier revisions, byte for byte
    return dict(sorted(files.items()))
