"""The `keel` command: the only place that prints, reads arguments or chooses an exit code.

Exit codes, the same for every command:
  0  success (warnings allowed)
  1  the thing checked failed (spec errors, stale generated code, breaking change)
  2  usage or I/O error (bad arguments, unreadable path)
  3  internal error: a bug in Keel
Heavy libraries (jinja2, black, datamodel-code-generator) are imported inside the
commands that need them, so `keel validate` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from generator import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
ISSUES_URL = "https://github.com/keel-dev/keel/issues"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 itself; keep its message, our wording
        self.print_usage(sys.stderr)
        sys.stderr.write(f"keel: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="keel",
        description="Keel turns a YAML spec of entities, endpoints and rules into a runnable FastAPI + "
        "SQLAlchemy backend. Start with `keel init NAME`, then `keel validate NAME`.",
        epilog="Exit codes: 0 ok (warnings allowed), 1 the spec (or check) failed, 2 usage or I/O error, "
        "3 internal error. Docs: docs/spec-language.md and docs/diagnostics.md.",
    )
    parser.add_argument("--version", action="version", version=f"keel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    validate = sub.add_parser("validate", help="check a spec and report every problem with its location",
                              description="Validate one or more specs (a directory with keel.yaml, or a .yaml file).")
    validate.add_argument("specs", nargs="+", metavar="SPEC", type=Path)
    _add_format_options(validate)

    schema = sub.add_parser("schema", help="print the JSON Schema of the spec language",
                            description="Print the JSON Schema (draft 2020-12) that spec files are checked against.")
    schema.add_argument("--output", "-o", type=Path, help="write to this file instead of standard output")

    init = sub.add_parser("init", help="create a new spec that validates",
                          description="Create DIR/NAME/keel.yaml: a small spec to start from.")
    init.add_argument("name", help="the app's machine name, snake_case (e.g. task_manager)")
    init.add_argument("--dir", type=Path, default=Path("specs"), help="parent directory (default: specs)")
    return parser


def _add_format_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["human", "json", "github"], default="human",
                   help="human (default), json (versioned, for tools and agents) or github (Actions annotations)")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                   help="colour human output (default: only on a terminal, and not if NO_COLOR is set)")


def _use_colour(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def cmd_validate(args: argparse.Namespace) -> int:
    from generator.pipeline import validate_path
    from generator.report import render_github, render_human, render_json, render_summary

    results = [validate_path(p) for p in args.specs]
    diagnostics = [d for r in results for d in r.diagnostics]
    files = [f for r in results for f in r.files]
    ok = all(r.ok for r in results)
    if args.format == "json":
        print(render_json("validate", diagnostics, files, ok))
    elif args.format == "github":
        text = render_github(diagnostics)
        if text:
            print(text)
    else:
        text = render_human(diagnostics, colour=_use_colour(args.color))
        if text:
            print(text, end="\n\n")
        for spec_path, result in zip(args.specs, results):
            print(render_summary(result.diagnostics, str(spec_path)))
    if ok:
        return EXIT_OK
    io_only = all(d.code == "K115" for d in diagnostics if d.is_error)
    return EXIT_USAGE if io_only else EXIT_FAILED


def cmd_schema(args: argparse.Namespace) -> int:
    from generator.schema import schema_text

    text = schema_text()
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"keel: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from generator.scaffold import InitError, create_spec

    try:
        path = create_spec(args.name, args.dir)
    except InitError as exc:
        print(f"keel: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"created {path}\nnext: keel validate {path.parent}")
    return EXIT_OK


COMMANDS = {"validate": cmd_validate, "schema": cmd_schema, "init": cmd_init}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug in Keel, never the user's fault
        if os.environ.get("KEEL_DEBUG"):
            raise
        print(
            f"keel: internal error: {type(exc).__name__}: {exc}\n"
            f"This is a bug in Keel {__version__}, not in your spec. Please report it at {ISSUES_URL} "
            "with the spec that triggered it (run with KEEL_DEBUG=1 for the traceback).",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
