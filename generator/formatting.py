"""Format generated Python with black, in process, with a mode pinned here.

Never the user's configuration: the same spec must give the same bytes on every
machine. black is slow (hundreds of lines per second), so results are memoised
by content hash for the life of the process; generate only formats what it renders.
"""

from __future__ import annotations

import hashlib

_CACHE: dict[str, str] = {}
LINE_LENGTH = 100


def format_python(source: str) -> str:
    key = hashlib.sha256(source.encode()).hexdigest()
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    import black  # heavy: imported only when generating

    mode = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=LINE_LENGTH,
                      string_normalization=True, magic_trailing_comma=True)
    result = black.format_str(source, mode=mode)
    _CACHE[key] = result
    return result
