"""User code for the expenses spec: hooks the generated app calls (see docs/extensions.md).

This module lives beside the spec, so `keel generate` never touches it. The generated
app loads it at start-up; `keel validate` checks (without running it) that every hook
the spec names is defined here with the right signature: one argument, the context.
"""

from __future__ import annotations

import re
from typing import Any

_SPACES = re.compile(r"\s+")


def normalise_title(ctx: Any) -> None:
    """Store report titles trimmed, with single spaces, so "Trip  to Lyon " and "Trip to Lyon" match.

    Called before a report is created or changed, inside the transaction; ``ctx.record`` is
    the report about to be saved. A title of only spaces is refused rather than stored empty.
    """
    title = ctx.record.title
    if title is None:
        return
    cleaned = _SPACES.sub(" ", title).strip()
    if not cleaned:
        raise ctx.refuse("A title needs at least one visible character.", code="blank_title")
    ctx.record.title = cleaned
