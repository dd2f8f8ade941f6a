"""``keel plan``: everything a reviewer or an AI agent needs to judge a proposed spec change.

One document (``keel.plan/1``) built from the pipeline's own stages, never a re-implementation:

* ``validation``: the diagnostics of ``keel validate`` (errors stop the plan there);
* ``diff``: ``keel diff``'s classification of the spec against a baseline: by default the
  spec as committed at ``HEAD`` (``--against REV`` for another revision; none outside git);
* ``files``: what ``keel generate`` would create, update and delete in the output directory,
  and the conflicts it would refuse (files Keel did not write);
* ``migration``: the Alembic revision the change adds (its path and operations), or the
  refusal of a change that would lose data, with its diagnostics;
* ``scenarios``: the spec's scenarios that exercise what changed, and what the rules'
  coverage is missing (K970);
* ``verdict``: ``acceptable`` and the reasons when it is not. Exit code 0 when acceptable.

Reads only: nothing is written, no database is touched.
"""

from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import __version__

__all__ = ["PLAN_FORMAT", "plan_document", "render_plan_human"]

PLAN_FORMAT = "keel.plan/1"
_LISTED = 15  # files listed per kind in the human rendering
_UPGRADE = re.compile(r"^def upgrade\(\) -> None:\n(?P<body>(?:(?:    .*)?\n)+)", re.M)


@dataclass(frozen=True)
class _Baseline:
    label: str | None  # e.g. "HEAD:specs/tasks"; None when there is none
    reason: str | None  # why there is no baseline


def plan_document(spec: Path, against: str | None = "HEAD", out: Path | None = None) -> dict[str, Any]:
    """The plan of ``spec`` as a JSON-ready dict (see the module docstring)."""
    from generator.pipeline import validate_path
    from generator.report import diagnostic_json, summary_counts

    result = validate_path(spec)
    errors, warnings = summary_counts(result.diagnostics)
    doc: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "tool": {"name": "keel", "version": __version__},
        "spec": str(spec),
        "validation": {"ok": result.ok, "errors": errors, "warnings": warnings,
                       "diagnostics": [diagnostic_json(d) for d in result.diagnostics]},
    }
    if not result.ok:
        doc["verdict"] = {"acceptable": False, "reasons": [f"the spec does not validate ({errors} errors)"]}
        return doc
    from generator.ir import build_ir

    ir = build_ir(result.spec, result.source_map, result.root)
    out_dir = out if out is not None else Path("generated") / ir.package
    doc["diff"] = _diff(spec, against)
    doc["files"], doc["migration"] = _files_and_migration(result, ir, out_dir)
    doc["scenarios"] = _scenarios(ir, doc["diff"], result.diagnostics)
    doc["verdict"] = _verdict(doc)
    return doc


def _diff(spec: Path, against: str | None) -> dict[str, Any]:
    """``keel diff --against`` as a dict, or why there is no baseline to compare with."""
    if against is None:
        return {"baseline": None, "reason": "no baseline asked for (--against none)"}
    from generator.documents import diff_document

    result = diff_document([str(spec)], against=against)  # `keel diff --against REV SPEC --format json`
    if result.doc.get("format", "").startswith("keel.diagnostics"):  # the baseline itself does not validate
        return {"baseline": f"{against}:{spec}", "reason": "the baseline does not validate",
                "diagnostics": result.doc.get("diagnostics", [])}
    if result.error:  # not in git, unknown revision, or the spec is new at that revision
        return {"baseline": None, "reason": result.doc["error"]}
    return {"baseline": f"{against}:{spec}", "blocking": result.code != 0, **result.doc}


def _files_and_migration(result, ir, out_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:  # type: ignore[no-untyped-def]
    from generator.generate import render_with_history
    from generator.report import diagnostic_json
    from generator.writer import plan

    spec_ref = Path(os.path.relpath(result.root, os.path.abspath(out_dir))).as_posix()
    files, refusal = render_with_history(ir, out_dir, result.root)
    if files is None:
        diagnostics = [diagnostic_json(d) for d in refusal]
        return ({"out": str(out_dir), "computed": False},
                {"status": "refused", "diagnostics": diagnostics,
                 "hint": "the change would lose data: keep the field, declare a rename (renamed_from), or "
                         "generate with --allow-destructive once the loss is intended"})
    changes = plan(out_dir, files, spec_ref)
    listing = {"out": str(out_dir), "computed": True, "create": list(changes.create),
               "update": list(changes.update), "delete": list(changes.delete),
               "unchanged": len(changes.unchanged),
               "conflicts": [{"path": c.path, "reason": c.reason} for c in changes.conflicts]}
    revisions = [p for p in changes.create if p.startswith("migrations/versions/") and p.endswith(".py")]
    if not revisions:
        return listing, {"status": "none", "revisions": []}
    added = []
    for path in revisions:
        text = files[path].decode("utf-8")
        body = _UPGRADE.search(text)
        added.append({"path": path, "upgrade": textwrap.dedent(body.group("body")).rstrip() if body else None})
    return listing, {"status": "added", "revisions": added}


def _scenarios(ir, diff: dict[str, Any], diagnostics) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Scenarios that touch an entity the diff changed, and the coverage warnings."""
    changed = {str(c.get("target", "")).split(".")[0] for c in diff.get("changes", [])}
    scenarios = getattr(ir, "scenarios", ()) or ()
    affected = sorted(s.name for s in scenarios if changed & {step.entity for step in s.steps})
    uncovered = [d.message for d in diagnostics if d.code == "K970"]
    return {"total": len(scenarios), "affected": affected, "uncovered": uncovered}


def _verdict(doc: dict[str, Any]) -> dict[str, Any]:
    reasons = []
    diff = doc["diff"]
    if diff.get("blocking"):
        blocking = [c for c in diff.get("changes", []) if c.get("severity") == "error"]
        reasons.append(f"{len(blocking)} change(s) break clients, lose data or widen a rule without being "
                       "allowed (see diff.changes; allow with evolution.allow in the spec)")
    if diff.get("diagnostics"):
        reasons.append("the baseline spec does not validate")
    if doc["migration"]["status"] == "refused":
        reasons.append("the migration would lose data (see migration.diagnostics)")
    conflicts = doc["files"].get("conflicts") or []
    if conflicts:
        reasons.append(f"{len(conflicts)} file(s) in {doc['files']['out']} were not written by Keel "
                       "and would be overwritten")
    return {"acceptable": not reasons, "reasons": reasons}


def render_plan_human(doc: dict[str, Any]) -> str:
    """The plan as text for a reviewer."""
    lines = [f"Plan for {doc['spec']}"]
    v = doc["validation"]
    lines.append(f"  validation: {'ok' if v['ok'] else 'FAILED'} ({v['errors']} errors, {v['warnings']} warnings)")
    for d in v["diagnostics"]:
        where = d.get("file") or ""
        if d.get("line"):
            where += f":{d['line']}:{d.get('column', 1)}"
        lines.append(f"    {d['severity']} {d['code']}{' ' + where if where else ''}: {d['message']}")
    if "diff" in doc:
        diff = doc["diff"]
        if diff.get("baseline") is None or "changes" not in diff:
            lines.append(f"  diff: no comparison ({diff.get('reason')})")
        else:
            changes = diff["changes"]
            lines.append(f"  diff against {diff['baseline']}: {len(changes)} change(s)")
            for c in changes:
                mark = "BLOCKING " if c.get("severity") == "error" else ""
                lines.append(f"    {mark}[{c.get('category')}] {c.get('rule')} {c.get('target')}: {c.get('message')}")
    if "files" in doc:
        f = doc["files"]
        if f.get("computed"):
            lines.append(f"  files in {f['out']}: {len(f['create'])} created, {len(f['update'])} updated, "
                         f"{len(f['delete'])} deleted, {f['unchanged']} unchanged")
            for kind in ("create", "update", "delete"):
                lines.extend(f"    {kind} {p}" for p in f[kind][:_LISTED])
                if len(f[kind]) > _LISTED:
                    lines.append(f"    ... and {len(f[kind]) - _LISTED} more to {kind} (all in --format json)")
            lines.extend(f"    CONFLICT {c['path']}: {c['reason']}" for c in f["conflicts"])
        m = doc["migration"]
        if m["status"] == "added":
            for r in m["revisions"]:
                lines.append(f"  migration: adds {r['path']}")
                lines.extend(f"    {line}" for line in (r["upgrade"] or "").splitlines())
        elif m["status"] == "refused":
            lines.append("  migration: REFUSED (it would lose data)")
            lines.extend(f"    {d['code']}: {d['message']}" for d in m["diagnostics"])
        else:
            lines.append("  migration: none needed")
        s = doc["scenarios"]
        lines.append(f"  scenarios: {len(s['affected'])} of {s['total']} exercise what changed"
                     + (f": {', '.join(s['affected'])}" if s["affected"] else ""))
        lines.extend(f"    not covered: {u}" for u in s["uncovered"])
    verdict = doc["verdict"]
    lines.append("verdict: " + ("acceptable" if verdict["acceptable"] else "NOT acceptable"))
    lines.extend(f"  - {r}" for r in verdict["reasons"])
    return "\n".join(lines)
