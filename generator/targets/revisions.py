"""The migration history of a generated app: which revision files it has, and the next one.

Generation stays a function of its inputs: the spec, and what the output directory
already holds of the history (``Previous``: ``migrations/schema_snapshot.json`` and
the revision files it lists, read by ``read_previous``). ``plan_history`` decides:

* no snapshot (a new app, or one generated before snapshots existed, or whose history
  the user reset by deleting the snapshot): the history is ``0001_initial`` alone,
  rendered from the IR like every other file;
* a snapshot whose history is ``0001`` alone and whose schema is the spec's: still
  ``0001_initial`` rendered from the IR (a new Keel may reword it; the schema is the same);
* otherwise every listed revision file is kept byte for byte (re-emitted as read, so
  the writer neither rewrites nor deletes it), and when the schema differs a new
  revision ``000N_<words>.py`` follows, with ``down_revision`` the previous one and no
  date, so the same spec and directory always give the same files.

A difference that would lose data (``schema_diff.Loss`` K701) raises
``MigrationRefused`` unless ``allow_destructive``; one existing rows cannot satisfy
(K702: a new required field without a default) is refused always. A snapshot that
cannot be read, or lists a revision file that is missing, is K703.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.ir.nodes import AppIR
from generator.targets.migrations import INITIAL_REVISION
from generator.targets.schema_diff import Loss, SchemaDiff, diff_schemas, schema_equal
from generator.targets.schema_snapshot import (SNAPSHOT_FORMAT, SNAPSHOT_PATH, initial_history, schema_of,
                                               snapshot_document)

__all__ = ["History", "MigrationRefused", "Previous", "plan_history", "read_previous", "refusal_diagnostics"]

_REVISION = re.compile(r"\d{4}\Z")
_FILE = re.compile(r"migrations/versions/\d{4}_[a-z0-9_]{1,60}\.py\Z")
_INITIAL_FILE = f"migrations/versions/{INITIAL_REVISION}_initial.py"


@dataclass(frozen=True)
class Previous:
    """What the output directory holds of the history (``read_previous``)."""

    snapshot: dict[str, Any] | None  # the parsed snapshot; None when there is none
    files: dict[str, bytes] = field(default_factory=dict)  # the revision files it lists, as on disk
    problem: str | None = None  # why the history cannot be used (K703)


class MigrationRefused(Exception):
    """The spec's schema change cannot be written as a migration (``losses``: why, in spec terms)."""

    def __init__(self, losses: list[Loss]) -> None:
        self.losses = list(losses)
        super().__init__("; ".join(loss.message for loss in self.losses))


@dataclass(frozen=True)
class History:
    texts: dict[str, str]  # files to render (formatted like the rest): the snapshot and a new revision
    verbatim: dict[str, bytes]  # earlier revision files, kept byte for byte
    drop: tuple[str, ...]  # rendered paths this history replaces (0001_initial when kept from disk)
    new_revision: str | None = None


def read_previous(out_dir: Path) -> Previous:
    """Read the snapshot and its revision files from ``out_dir`` (never follows a path outside it)."""
    path = Path(out_dir) / SNAPSHOT_PATH
    if not path.is_file():
        return Previous(None)
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        return Previous(None, problem=f"{SNAPSHOT_PATH} cannot be read: {exc}")
    revisions = doc.get("revisions") if isinstance(doc, dict) else None
    if (not isinstance(doc, dict) or doc.get("format") != SNAPSHOT_FORMAT or not isinstance(doc.get("tables"), dict)
            or not isinstance(revisions, list) or not revisions):
        return Previous(None, problem=f"{SNAPSHOT_PATH} is not a {SNAPSHOT_FORMAT} snapshot")
    files: dict[str, bytes] = {}
    for i, entry in enumerate(revisions, start=1):
        ok = (isinstance(entry, dict) and entry.get("revision") == f"{i:04d}"
              and _REVISION.match(str(entry.get("revision"))) and _FILE.match(str(entry.get("file", "")))
              and str(entry["file"]).startswith(f"migrations/versions/{i:04d}_"))
        if not ok:
            return Previous(None, problem=f"{SNAPSHOT_PATH}: revision entry {i} is malformed")
        file = Path(out_dir) / entry["file"]
        if not file.is_file() or file.is_symlink():
            return Previous(doc, problem=f"{entry['file']} is listed in {SNAPSHOT_PATH} but missing")
        files[entry["file"]] = file.read_bytes()
    return Previous(doc, files)


def plan_history(ir: AppIR, header: str, render, previous: Previous | None = None,
                 allow_destructive: bool = False) -> History:
    """The migration files for ``ir`` given the directory's history; ``render(template, context)`` renders."""
    tables = schema_of(ir)
    if previous is not None and previous.problem is not None:
        raise MigrationRefused([Loss("K703", previous.problem,
                                     f"restore the file, or delete {SNAPSHOT_PATH} to start the history over "
                                     "(existing databases then need to be recreated)")])
    if previous is None or previous.snapshot is None:
        return History({SNAPSHOT_PATH: _json(snapshot_document(tables, initial_history()))}, {}, ())
    history: list[dict[str, str]] = list(previous.snapshot["revisions"])
    old_tables = previous.snapshot["tables"]
    same = schema_equal(old_tables, tables)
    if same and [h["file"] for h in history] == [_INITIAL_FILE]:
        return History({SNAPSHOT_PATH: _json(snapshot_document(tables, history))}, {}, ())
    verbatim = dict(previous.files)
    if same:
        return History({SNAPSHOT_PATH: _json(snapshot_document(tables, history))}, verbatim, (_INITIAL_FILE,))
    diff = diff_schemas(old_tables, tables)
    refused = diff.blockers + ([] if allow_destructive else diff.losses)
    if refused:
        raise MigrationRefused(refused)
    number = f"{len(history) + 1:04d}"
    path = f"migrations/versions/{number}_{_slug(diff)}.py"
    text = render("app/migrations/versions/revision.py.j2",
                  _context(ir, header, number, history[-1]["revision"], diff))
    history.append({"revision": number, "file": path})
    texts = {SNAPSHOT_PATH: _json(snapshot_document(tables, history)), path: text}
    return History(texts, verbatim, (_INITIAL_FILE,), number)


def _context(ir: AppIR, header: str, number: str, down: str, diff: SchemaDiff) -> dict[str, Any]:
    up = [_indent(line) for step in diff.steps for line in step.up]
    irreversible = [step.lost for step in diff.steps if step.down is None]
    down_lines = [_indent(line) for step in reversed(diff.steps) for line in (step.down or ())]
    message = None
    if irreversible:
        text = (f"revision {number} cannot be downgraded: it dropped {', '.join(irreversible)}, and that data "
                "is gone. Restore a backup taken before upgrading to it instead.")
        message = "\n        ".join(repr(chunk) for chunk in _chunks(text, 72))
    return {
        "header": header,
        "title": f"Schema change {number}, from the spec of {ir.name}.",
        "revision": number,
        "down_revision": down,
        "revision_literal": repr(number),
        "down_revision_literal": repr(down),
        "changes": [step.what for step in diff.steps],
        "imports": sorted(diff.imports),
        "upgrade": up,
        "downgrade": down_lines or ["    pass"],
        "irreversible": message,
    }


def _chunks(text: str, width: int) -> list[str]:
    """``text`` cut at spaces into pieces of about ``width`` characters (each keeps its trailing space)."""
    out, line = [], ""
    for word in text.split(" "):
        if line and len(line) + len(word) > width:
            out.append(line)
            line = ""
        line += word + " "
    out.append(line.rstrip(" "))
    return out


def _indent(block: str) -> str:
    return "\n".join("    " + line if line else "" for line in block.split("\n"))


def _slug(diff: SchemaDiff) -> str:
    words: list[str] = []
    for w in diff.words:
        w = re.sub(r"[^a-z0-9]+", "_", w.lower()).strip("_")
        if w and (not words or words[-1] != w):
            words.append(w)
    slug = "_".join(words)[:40].rstrip("_")
    return slug or "schema"


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def refusal_diagnostics(losses: list[Loss], root: Path | None) -> list:
    """The refusals as diagnostics located in the spec (``file:line`` sources are relative to ``root``)."""
    from generator.diagnostics import Diagnostic, Span

    out = []
    for loss in losses:
        span = None
        if loss.source and root is not None:
            file, _, line = loss.source.rpartition(":")
            if file and line.isdigit():
                span = Span(str(Path(root) / file), int(line), 1)
        out.append(Diagnostic(loss.code, loss.message, span, hint=loss.hint))
    return out
