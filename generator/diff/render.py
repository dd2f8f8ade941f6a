"""``keel diff`` output: for people (human), for tools and agents (json), for GitHub Actions (github).

The JSON document is versioned (``"format": "keel.diff/1"``); fields are only ever
added within a version. Its shape is documented in docs/diff.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.diff import DiffResult
from generator.diff.catalogue import CATEGORIES, RULES
from generator.diff.model import Change, Location

__all__ = ["render_github", "render_human", "render_json", "summary"]

FORMAT = "keel.diff/1"
_HEADINGS = {"api-breaking": "API (clients)", "data": "Data (database)", "security": "Security",
             "safe": "Safe additions"}


def summary(result: DiffResult) -> dict[str, Any]:
    changes = result.changes
    return {
        "changes": len(changes),
        "blocking": sum(1 for c in changes if c.blocking and c.allowed_by is None),
        "allowed": sum(1 for c in changes if c.blocking and c.allowed_by is not None),
        "breaking": sum(1 for c in changes if c.breaking),
        "destructive": sum(1 for c in changes if c.destructive),
        "review": sum(1 for c in changes if c.review),
        "migration": any(c.migration for c in changes),
        "by_category": {cat: sum(1 for c in changes if c.category == cat) for cat in CATEGORIES},
    }


def _location(loc: Location | None) -> dict[str, Any] | None:
    return loc.as_json() if loc is not None else None


def change_json(c: Change) -> dict[str, Any]:
    return {
        "rule": c.rule, "category": c.category, "severity": c.severity, "target": c.target, "message": c.message,
        "breaking": c.breaking, "destructive": c.destructive, "migration": c.migration, "review": c.review,
        "allowed_by": c.allowed_by, "old": _location(c.old), "new": _location(c.new),
        "details": {k: v for k, v in c.details}, "description": RULES[c.rule].description,
    }


def render_json(result: DiffResult) -> str:
    doc = {
        "format": FORMAT,
        "ok": not result.failed,
        "old": {"spec": result.old.label, "app": result.old.ir.name, "version": result.old.ir.version},
        "new": {"spec": result.new.label, "app": result.new.ir.name, "version": result.new.ir.version},
        "summary": summary(result),
        "changes": [change_json(c) for c in result.changes],
    }
    return json.dumps(doc, indent=2, default=str)


def _flags(c: Change) -> str:
    words = [w for w, on in (("breaking", c.breaking), ("destructive", c.destructive), ("review", c.review),
                             ("migration", c.migration)) if on]
    return f" ({', '.join(words)})" if words else ""


def render_human(result: DiffResult, colour: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if colour else text

    lines = [f"keel diff {result.old.label} -> {result.new.label}"]
    if not result.changes:
        return lines[0] + "\nno changes"
    styles = {"error": "1;31", "warning": "1;33", "notice": "1;36"}
    for category in CATEGORIES:
        group = [c for c in result.changes if c.category == category]
        if not group:
            continue
        lines.append("")
        lines.append(paint(f"{_HEADINGS[category]}: {len(group)}", "1"))
        for c in group:
            lines.append(f"  {paint(c.severity, styles[c.severity])}[{c.rule}] {c.target}: {c.message}{_flags(c)}")
            if c.old is not None:
                lines.append(f"      old: {c.old}")
            if c.new is not None:
                lines.append(f"      new: {c.new}")
            if c.allowed_by:
                lines.append(f"      allowed by {c.allowed_by}")
    s = summary(result)
    lines.append("")
    lines.append(f"{s['changes']} change{'s' if s['changes'] != 1 else ''}: {s['breaking']} breaking, "
                 f"{s['destructive']} destructive, {s['review']} to review; {s['blocking']} not allowed"
                 + (f", {s['allowed']} allowed" if s["allowed"] else ""))
    if s["blocking"]:
        lines.append("accept a change with `--allow RULE`, --allow-breaking / --allow-destructive, or an "
                     "`evolution.allow` entry in the spec (docs/diff.md)")
    return "\n".join(lines)


def _escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def render_github(result: DiffResult) -> str:
    out = []
    for c in result.changes:
        loc = c.new if c.new is not None else c.old
        props = []
        if loc is not None and Path(loc.file).exists():
            props = [f"file={_escape(loc.file, True)}", f"line={loc.line}", f"col={loc.column}"]
        props.append(f"title={_escape(f'keel diff {c.rule}', True)}")
        message = f"{c.target}: {c.message}{_flags(c)}"
        if c.old is not None and c.new is not None:
            message += f" (was at {c.old})"
        if c.allowed_by:
            message += f" (allowed by {c.allowed_by})"
        out.append(f"::{c.severity} {','.join(props)}::{_escape(message)}")
    return "\n".join(out)
