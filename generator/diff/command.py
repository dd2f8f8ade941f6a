"""``keel diff`` from arguments to output text and exit code (the CLI prints them).

    keel diff OLD NEW                spec paths (or REV:PATH for a spec at a git revision)
    keel diff --against REV SPEC     SPEC in the working tree against SPEC at REV

Exit 0: nothing breaking, destructive or to review (or all of it allowed); 1: some
is not allowed, or a spec does not validate (its diagnostics are printed instead of
a diff); 2: usage (bad arguments, an unknown revision, an unreadable path).
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.diff import Allowances, Version, diff_versions
from generator.diff.catalogue import RULES
from generator.diff.source import Checkout, SourceError, checkout

__all__ = ["Outcome", "run_diff"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass
class Outcome:
    code: int
    out: str = ""
    err: str = ""
    _temp: list[Checkout] = field(default_factory=list)


class _Usage(Exception):
    pass


def _side(text: str, against: str | None, temps: list[Checkout]) -> tuple[Path, str, str | None, Path | None]:
    """(path to validate, label, shown root, spec dir) for one positional argument."""
    if against is not None:
        c = checkout(against, Path(text))
        temps.append(c)
        return c.path, f"{against}:{Path(text).as_posix()}", c.shown_root, c.spec_dir
    path = Path(text)
    if not path.exists() and ":" in text and not (len(text) > 1 and text[1] == ":"):  # REV:PATH, not C:\...
        rev, _, rest = text.partition(":")
        c = checkout(rev, Path(rest or "."))
        temps.append(c)
        return c.path, text, c.shown_root, c.spec_dir
    return path, text, None, None


def _remap(diagnostics, spec_dir: Path | None, shown: str | None):  # type: ignore[no-untyped-def]
    """Diagnostics of a spec read from a revision, with its files named REV:path."""
    if spec_dir is None or shown is None:
        return list(diagnostics)
    out = []
    for d in diagnostics:
        if d.span is not None:
            try:
                relative = Path(d.span.file).resolve().relative_to(spec_dir.resolve()).as_posix()
                d = dataclasses.replace(d, span=dataclasses.replace(d.span, file=f"{shown}/{relative}"))
            except ValueError:
                pass
        out.append(d)
    return out


def run_diff(args: Any, colour: bool) -> Outcome:
    temps: list[Checkout] = []
    try:
        return _run(args, colour, temps)
    except (_Usage, SourceError) as exc:
        return Outcome(EXIT_USAGE, err=f"keel: {exc}")
    finally:
        for c in temps:
            c.cleanup()


def _run(args: Any, colour: bool, temps: list[Checkout]) -> Outcome:
    from generator.ir import build_ir
    from generator.pipeline import validate_path
    from generator.report import render_github, render_human, render_json, render_summary

    specs = list(args.specs)
    if args.against is not None and len(specs) != 1:
        raise _Usage("with --against REV, give one SPEC (the spec in the working tree to compare with REV)")
    if args.against is None and len(specs) != 2:
        raise _Usage("give OLD and NEW specs, or --against REV SPEC")
    for rule_id in args.allow:
        if rule_id not in RULES:
            close = difflib.get_close_matches(rule_id, sorted(RULES), n=1, cutoff=0.6)
            raise _Usage(f"--allow {rule_id}: not a keel diff rule" + (f" (did you mean {close[0]}?)" if close else
                                                                       "; the ids are listed in docs/diff.md"))
    sides = [_side(specs[0], args.against, temps)] if args.against else [_side(specs[0], None, temps)]
    sides.append(_side(specs[-1], None, temps))
    results = [validate_path(path) for path, *_ in sides]
    if not all(r.ok for r in results):
        diagnostics = [d for r, (_, _, shown, spec_dir) in zip(results, sides)
                       for d in _remap(r.diagnostics, spec_dir, shown)]
        files = [f for r in results for f in r.files]
        io_only = all(d.code == "K115" for d in diagnostics if d.is_error)
        code = EXIT_USAGE if io_only else EXIT_FAILED
        if args.format == "json":
            return Outcome(code, render_json("diff", diagnostics, files, False))
        if args.format == "github":
            return Outcome(code, render_github(diagnostics))
        text = render_human(diagnostics, colour=colour)
        summaries = "\n".join(render_summary(_remap(r.diagnostics, spec_dir, shown), label)
                              for r, (_, label, shown, spec_dir) in zip(results, sides))
        return Outcome(code, err=(text + "\n\n" if text else "") + summaries
                       + "\nkeel: no diff: the specs above do not validate")
    versions = []
    for r, (_, label, shown, _) in zip(results, sides):
        ir = build_ir(r.spec, r.source_map, r.root)
        versions.append(Version(r.spec, ir, r.source_map, r.root, label, shown))
    allow = Allowances(tuple(args.allow), args.allow_breaking, args.allow_destructive,
                       tuple(getattr(versions[1].spec, "evolution", ())))
    result = diff_versions(versions[0], versions[1], allow)
    from generator.diff.render import render_github as gh, render_human as human, render_json as js

    text = js(result) if args.format == "json" else gh(result) if args.format == "github" else human(result, colour)
    return Outcome(EXIT_FAILED if result.failed else EXIT_OK, text)
