"""An ``Explanation`` (generator.explain) as terminal text, Markdown (the generated app's
``docs/rules.md``) or a versioned JSON document (``"format": "keel.explain/1"``). Pure functions."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from generator.explain import Explanation, Topic

__all__ = ["FORMAT", "SECTIONS", "explanation_document", "render_json", "render_markdown", "render_text"]

FORMAT = "keel.explain/1"
# Topic kinds, grouped under these headings, in this order.
SECTIONS = (
    ("Who may do what", ("operation",)),
    ("Fields", ("field",)),
    ("Invariants", ("invariant",)),
    ("Computed fields", ("computed",)),
    ("Workflow", ("workflow", "transition", "frozen")),
    ("Actions", ("action",)),
    ("Queries", ("query",)),
    ("Audit trail and notifications", ("audit", "notification")),
)


def _grouped(topics: tuple[Topic, ...]) -> list[tuple[str, list[Topic]]]:
    out = []
    for heading, kinds in SECTIONS:
        chosen = [t for t in topics if t.kind in kinds]
        if chosen:
            out.append((heading, chosen))
    return out


def explanation_document(explanation: Explanation) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "ok": True,
        "app": explanation.app,
        "title": explanation.title,
        "spec_file": explanation.spec_file,
        "target": explanation.target,
        "entities": [
            {
                "name": e.name,
                "noun": e.noun,
                "description": e.description,
                "source": e.source,
                "topics": [
                    {
                        "kind": t.kind,
                        "name": t.name,
                        "title": t.title,
                        "summary": t.sentences[0] if t.sentences else "",
                        "description": t.description,
                        "sentences": list(t.sentences),
                        "rules": [{"id": r.id, "effect": r.effect, "expr": r.expr, "english": r.english,
                                   "source": r.source} for r in t.rules],
                        "facts": dict(t.facts),
                        "source": t.source,
                    }
                    for t in e.topics
                ],
            }
            for e in explanation.entities
        ],
    }


def render_json(explanation: Explanation) -> str:
    return json.dumps(explanation_document(explanation), indent=2, ensure_ascii=False)


def _wrap(text: str, indent: str, width: int = 100) -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) or [indent]


def render_text(explanation: Explanation) -> str:
    lines = []
    for e in explanation.entities:
        head = f"{e.name} ({e.source})" if e.source else e.name
        lines.append(head)
        if e.description:
            lines += _wrap(e.description, "  ")
        for heading, topics in _grouped(e.topics):
            lines += ["", f"  {heading}"]
            for t in topics:
                lines.append(f"    {t.title}")
                if t.description:
                    lines += _wrap(t.description, "      ")
                for sentence in t.sentences:
                    lines += _wrap(sentence, "      ")
                for r in t.rules:
                    ident = f" {r.id}" if r.id else ""
                    lines += _wrap(f"{r.effect}{ident}: {r.expr}  [{r.source}]", "        · ")[:1]
                    rest = _wrap(f"{r.effect}{ident}: {r.expr}  [{r.source}]", "          ")[1:]
                    lines += rest
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_CODE = re.compile(r"(`+[^`]*`+)")


def _md(text: str) -> str:
    """Prose for Markdown: HTML-significant characters escaped outside code spans."""
    parts = _CODE.split(text)
    return "".join(p if i % 2 else p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                   .replace("|", "\\|") for i, p in enumerate(parts))


def _code(text: str) -> str:
    """A Markdown code span that survives backticks and pipes in spec text."""
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_markdown(explanation: Explanation, header: str = "") -> str:
    out = [header] if header else []
    out += [f"# Rules of {_md(explanation.title)}", "",
            "Every rule of the spec in plain English, generated from its expressions by `keel explain`. "
            "The identifiers in the rule lists are what a refusal names (`rule` in a 403 answer).", ""]
    if len(explanation.entities) > 1:
        out += [f"* [{e.name}](#{_anchor(e.name)})" for e in explanation.entities] + [""]
    for e in explanation.entities:
        out += [f"## {e.name}", ""]
        if e.description:
            out += [_md(e.description), ""]
        if e.source:
            out += [f"Spec: `{e.source}`", ""]
        for heading, topics in _grouped(e.topics):
            out += [f"### {heading}", ""]
            for t in topics:
                out += [f"#### {_md(t.title)}", ""]
                if t.description:
                    out += [f"*{_md(t.description)}*", ""]
                out += [_md(" ".join(t.sentences)), ""]
                for r in t.rules:
                    ident = f" `{r.id}`" if r.id else ""
                    out.append(f"* **{r.effect}**{ident}: {_code(r.expr)}: {_md(r.english)} ({_md(r.source)})")
                if t.rules:
                    out.append("")
    return "\n".join(out).rstrip() + "\n"
