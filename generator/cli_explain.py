"""``keel explain`` and ``keel diagram``: parsers and commands, registered by ``generator.cli``.

Same conventions as the other commands: the spec is validated first (its diagnostics and exit 1
when it has errors), ``--format json`` prints one versioned document, an unknown entity or topic
is a usage error (exit 2) whose message lists the valid names.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parsers(sub) -> None:  # type: ignore[no-untyped-def]
    explain = sub.add_parser(
        "explain", help="the spec's rules in plain English",
        description="Explain who may do what: permissions, field access, invariants, computed fields, workflow "
        "transitions and approvals, actions, queries, audit and notifications, in plain English generated "
        "from the rules. TARGET narrows it to one entity (Task) or one topic (Task.delete, Task.start, "
        "ExpenseReport.approve, Employee.bank_account).")
    explain.add_argument("spec", metavar="SPEC", type=Path)
    explain.add_argument("target", metavar="TARGET", nargs="?", help="Entity or Entity.name (default: everything)")
    explain.add_argument("--format", choices=["human", "markdown", "json"], default="human",
                         help="human (default), markdown, or json (versioned, for tools and agents)")
    _colour(explain)

    diagram = sub.add_parser(
        "diagram", help="Mermaid diagrams: entities and relations, workflow states",
        description="Print a Mermaid erDiagram of the entities (fields, keys, relations with their "
        "cardinalities) and a stateDiagram-v2 per workflow, as Markdown with ```mermaid fences.")
    diagram.add_argument("spec", metavar="SPEC", type=Path)
    diagram.add_argument("entity", metavar="ENTITY", nargs="?",
                         help="only this entity (its fields and the relations touching it, its workflow)")
    diagram.add_argument("--kind", choices=["er", "state", "all"], default="all",
                         help="er (entities), state (workflows) or all (default)")
    diagram.add_argument("--raw", action="store_true",
                         help="print the Mermaid source only, without Markdown (diagrams separated by a blank line)")
    diagram.add_argument("--format", choices=["human", "json"], default="human",
                         help="human (default: Markdown, or raw with --raw) or json (versioned)")
    _colour(diagram)


def _colour(p: argparse.ArgumentParser) -> None:
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                   help="colour diagnostics (default: only on a terminal, and not if NO_COLOR is set)")


def _ir(args: argparse.Namespace, command: str):  # type: ignore[no-untyped-def]
    """The spec's IR, or the exit code after printing its diagnostics (errors: nothing to explain)."""
    from generator.cli import _validated_or_report
    from generator.ir import build_ir

    shown = argparse.Namespace(**{**vars(args), "format": "human"})  # --format json: generator.documents
    result = _validated_or_report(shown, command)
    if result is None:
        return EXIT_USAGE if not args.spec.exists() else EXIT_FAILED  # a missing spec is an I/O error
    return build_ir(result.spec, result.source_map, result.root)


def _usage(args: argparse.Namespace, fmt: str, message: str, valid: tuple[str, ...]) -> int:
    print(f"keel: {message}", file=sys.stderr)  # --format json: generator.documents
    return EXIT_USAGE


def _print_document(document) -> int:  # type: ignore[no-untyped-def]
    """``--format json``: the document ``keel mcp`` returns too (generator.documents)."""
    print(document.text())
    if "error" in document.doc:
        print(f"keel: {document.doc['error']}", file=sys.stderr)
    return document.code


def cmd_explain(args: argparse.Namespace) -> int:
    if args.format == "json":
        from generator.documents import explain_document

        return _print_document(explain_document(args.spec, args.target))
    from generator.explain import UnknownTarget, explain, select
    from generator.explain_render import FORMAT, render_markdown, render_text

    ir = _ir(args, "explain")
    if isinstance(ir, int):
        return ir
    explanation = explain(ir)
    if args.target:
        try:
            explanation = select(explanation, args.target)
        except UnknownTarget as exc:
            return _usage(args, FORMAT, str(exc), exc.valid)
    if args.format == "markdown":
        sys.stdout.write(render_markdown(explanation))
    else:
        sys.stdout.write(render_text(explanation))
    return EXIT_OK


def cmd_diagram(args: argparse.Namespace) -> int:
    if args.format == "json":
        from generator.documents import diagram_document

        return _print_document(diagram_document(args.spec, args.kind, args.entity))
    from generator.diagrams import diagrams, render_markdown

    ir = _ir(args, "diagram")
    if isinstance(ir, int):
        return ir
    names = tuple(e.name for e in ir.entities)
    if args.entity is not None and args.entity not in names:
        folded = next((n for n in names if n.lower() == args.entity.lower()), None)
        hint = f" (did you mean `{folded}`?)" if folded else ""
        return _usage(args, "keel.diagram/1", f"no entity `{args.entity}` in `{ir.name}`{hint}; entities: "
                      f"{', '.join(names)}", names)
    kind = None if args.kind == "all" else args.kind
    chosen = diagrams(ir, kind, args.entity)
    if not chosen:  # e.g. --kind state for an entity without a workflow
        print(f"keel: no {args.kind} diagram for {args.entity or ir.name}: it has no workflow", file=sys.stderr)
        return EXIT_OK
    if args.raw:
        sys.stdout.write("\n".join(d.mermaid for d in chosen))
    else:
        sys.stdout.write(render_markdown(chosen))
    return EXIT_OK
