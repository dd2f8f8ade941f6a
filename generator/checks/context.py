"""What every semantic check receives, and the one way checks report problems."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from generator.diagnostics import Diagnostic, Related
from generator.loader.sourcemap import SourceMap
from generator.model.spec import Entity, NameRef, Spec


def article(word: str) -> str:
    """``an integer``, ``a string``: for messages."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


@dataclass
class CheckContext:
    spec: Spec
    source_map: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def report(self, code: str, message: str, pointer: str, *, hint: str | None = None, at_key: bool = False,
               related: Iterable[tuple[str, str]] = ()) -> None:
        """Record a diagnostic at ``pointer``; ``related`` is (message, pointer) pairs."""
        span = self.source_map.key_span(pointer) if at_key else self.source_map.value_span(pointer)
        rel = tuple(Related(msg, self.source_map.key_span(p)) for msg, p in related)
        self.diagnostics.append(Diagnostic(code, message, span, pointer, hint, rel))

    def report_span(self, code: str, message: str, pointer: str, start: int, end: int,
                    hint: str | None = None) -> None:
        """Record a diagnostic inside the expression text at ``pointer``."""
        span = self.source_map.expression_span(pointer, start, end)
        self.diagnostics.append(Diagnostic(code, message, span, pointer, hint))

    def unknown(self, code: str, kind: str, ref: NameRef, options: Iterable[str], where: str = "") -> None:
        options = sorted(set(options))
        plural = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
        close = difflib.get_close_matches(ref.name, options, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean `{close[0]}`?"
        elif options:
            shown = ", ".join(f"`{o}`" for o in options[:12]) + (", ..." if len(options) > 12 else "")
            hint = f"known {plural}: {shown}"
        else:
            hint = f"declare the {kind} first"
        suffix = f" {where}" if where else ""
        self.report(code, f"unknown {kind} `{ref.name}`{suffix}", ref.pointer, hint=hint)

    def entity(self, name: str) -> Entity | None:
        return self.spec.entity(name)
