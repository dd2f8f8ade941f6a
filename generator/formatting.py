"""Format generated Python with black, in process, with a mode pinned here.

Never the user's configuration: the same spec must give the same bytes on every
machine. black is slow (a few thousand lines a second, and ``format_str`` makes
two passes over any input that is not already black-stable, which template
output never is), so the output is black's exactly, but black runs as little
as possible:

* an in-process memo and a persistent on-disk cache of formatted output, keyed
  by sha256(black version + pinned mode + input text): regenerating an
  unchanged spec never calls (nor imports) black. The cache lives under
  ``$KEEL_CACHE_DIR``, else ``$XDG_CACHE_HOME/keel``, else ``~/.cache/keel``;
  ``KEEL_NO_CACHE=1`` disables it. It is only ever a shortcut: an entry is
  written atomically, checksummed, ignored when unreadable or corrupt, the
  cache is pruned (least recently used first) past ``CACHE_MAX_BYTES``, and
  any error of the cache's own is swallowed (a read-only home still generates);
* the files that miss the cache are formatted in parallel (a process pool, one
  worker per available core, largest file first) when there are enough lines
  to pay for starting the pool; ``KEEL_JOBS=N`` caps the workers (1: serial).
  Each result is black's output for that file alone, so the order and the
  bytes do not depend on the scheduling.

Measurements and what was tried: docs/performance.md.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

__all__ = ["LINE_LENGTH", "FormatBatch", "cache_dir", "cache_root", "format_python", "format_python_many"]

LINE_LENGTH = 100
# The pinned mode, in one place: it builds black.Mode and it is part of every cache key.
_MODE = {"target_versions": ("PY311",), "line_length": LINE_LENGTH, "string_normalization": True,
         "magic_trailing_comma": True}

CACHE_FORMAT = "keel-format-cache-1"  # bump when the entry layout or the key changes
CACHE_MAX_BYTES = 256 * 1024 * 1024  # pruned to 3/4 of this, least recently used first, after a write
PARALLEL_MIN_LINES = 3000  # below this (about 2 s of black) the best case saves too little for a pool

_MEMO: dict[str, str] = {}  # key -> formatted text, for the life of the process
_COMPILES: set[str] = set()  # keys whose formatted text is known to compile
_HEADER = CACHE_FORMAT.encode() + b"\n"


def format_python(source: str) -> str:
    """black's output for ``source`` under the pinned mode (``black.format_str``), cached."""
    return format_python_many([source])[0]


def format_python_many(sources: Sequence[str], *, filenames: Sequence[str] | None = None,
                       jobs: int | None = None) -> list[str]:
    """black's output for each source, in order; the misses run in parallel when that pays.

    With ``filenames``, each output is also checked to compile (a SyntaxError names the
    file): a generated module that does not compile is a Keel bug. Only output that compiles
    is written to the persistent cache, with the Python version in its key, so an entry read
    back is known to compile and is not compiled again. ``jobs`` caps the worker processes
    (default: ``KEEL_JOBS``, else the available cores).
    """
    keys = [_key(s) for s in sources]
    results: list[str | None] = [_MEMO.get(k) for k in keys]
    root = cache_dir()
    if root is not None:
        for i, key in enumerate(keys):
            if results[i] is None:
                results[i] = _read_entry(root, key)
                if results[i] is not None:
                    _MEMO[key] = results[i]  # type: ignore[assignment]
                    _COMPILES.add(key)
    misses: dict[str, str] = {}  # key -> source; identical sources are formatted once
    for i, key in enumerate(keys):
        if results[i] is None:
            misses.setdefault(key, sources[i])
    if misses:
        formatted = _format_all(list(misses.values()), _jobs(jobs))
        for key, (text, compiles) in zip(misses, formatted):
            _MEMO[key] = text
            if compiles:
                _COMPILES.add(key)
                if root is not None:
                    _write_entry(root, key, text)
        if root is not None:
            _prune(root)
    if filenames is not None:
        for key, filename in zip(keys, filenames, strict=True):
            if key not in _COMPILES:
                compile(_MEMO[key], filename, "exec")  # raises the SyntaxError, naming the file
                _COMPILES.add(key)
    return [_MEMO[k] for k in keys]


class FormatBatch:
    """``format_python_many`` for sources that arrive one by one: black runs while the caller renders.

    Each source is looked up in the memo and the disk cache as it is added; the misses wait until
    they add up to ``PARALLEL_MIN_LINES``, then a pool of workers starts and takes them (largest
    first) and every later miss as it comes. ``results()`` waits for the pool, or formats the few
    misses in this process if the pool never paid. The bytes are each file's black output, as with
    ``format_python_many``; only the timing differs.
    """

    def __init__(self, jobs: int | None = None) -> None:
        self._jobs = _jobs(jobs)
        self._root = cache_dir()
        self._keys: list[str] = []
        self._filenames: list[str] = []
        self._waiting: dict[str, str] = {}  # key -> source, not yet given to the pool
        self._waiting_lines = 0
        self._futures: dict[str, object] = {}  # key -> future
        self._pool = None

    def add(self, source: str, filename: str) -> None:
        key = _key(source)
        self._keys.append(key)
        self._filenames.append(filename)
        if key in _MEMO or key in self._waiting or key in self._futures:
            return
        if self._root is not None:
            cached = _read_entry(self._root, key)
            if cached is not None:
                _MEMO[key] = cached
                _COMPILES.add(key)
                return
        self._waiting[key] = source
        self._waiting_lines += source.count("\n")
        if self._pool is None and self._waiting_lines >= PARALLEL_MIN_LINES and self._jobs > 1:
            self._start()
        if self._pool is not None:
            self._submit_waiting()

    def _start(self) -> None:
        import concurrent.futures
        import multiprocessing

        if multiprocessing.current_process().daemon:  # a daemon process may not start workers
            self._jobs = 1
            return
        import black  # noqa: F401  (imported before the workers fork, so they inherit it)

        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=self._jobs, mp_context=multiprocessing.get_context(_start_method()))

    def _submit_waiting(self) -> None:
        for key in sorted(self._waiting, key=lambda k: -len(self._waiting[k])):  # largest first
            self._futures[key] = self._pool.submit(_black, self._waiting[key])  # type: ignore[union-attr]
        self._waiting.clear()

    def close(self) -> None:
        """Stop the workers without waiting for them (the caller gave up: an error)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def results(self) -> dict[str, str]:
        """Each file's black output, by the name it was added with; each checked to compile (naming it)."""
        done: dict[str, tuple[str, bool]] = {}
        try:
            for key, future in self._futures.items():
                done[key] = future.result()  # type: ignore[attr-defined]
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None
        for key, source in self._waiting.items():  # too few lines for a pool: here
            done[key] = _black(source)
        for key, (text, compiles) in done.items():
            _MEMO[key] = text
            if compiles:
                _COMPILES.add(key)
                if self._root is not None:
                    _write_entry(self._root, key, text)
        if done and self._root is not None:
            _prune(self._root)
        for key, filename in zip(self._keys, self._filenames):
            if key not in _COMPILES:
                compile(_MEMO[key], filename, "exec")  # raises the SyntaxError, naming the file
                _COMPILES.add(key)
        return {filename: _MEMO[key] for key, filename in zip(self._keys, self._filenames)}


# -- black ------------------------------------------------------------------------------------------------

def _mode():
    import black  # heavy: imported only when something has to be formatted

    return black.Mode(target_versions={getattr(black.TargetVersion, v) for v in _MODE["target_versions"]},
                      line_length=_MODE["line_length"], string_normalization=_MODE["string_normalization"],
                      magic_trailing_comma=_MODE["magic_trailing_comma"])


def _black(source: str) -> tuple[str, bool]:
    """black's output, and whether it compiles (checked here, so that it runs in the workers too)."""
    import black

    text = black.format_str(source, mode=_mode())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning (invalid escape...) is left for the caller's compile to show
            compile(text, "<generated>", "exec")
    except (SyntaxError, ValueError, Warning):
        return text, False
    return text, True


def _format_all(sources: list[str], jobs: int) -> list[tuple[str, bool]]:
    lines = sum(s.count("\n") for s in sources)
    import multiprocessing

    if jobs <= 1 or len(sources) < 2 or lines < PARALLEL_MIN_LINES or multiprocessing.current_process().daemon:
        return [_black(s) for s in sources]  # (a daemon process may not start workers)
    import concurrent.futures

    import black  # noqa: F401  (imported before the workers fork, so they inherit it)

    # Largest first, so that the one huge module (models, migration) does not start last.
    order = sorted(range(len(sources)), key=lambda i: -len(sources[i]))
    out: list[tuple[str, bool] | None] = [None] * len(sources)
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(sources)),
                                                mp_context=multiprocessing.get_context(_start_method())) as pool:
        futures = {pool.submit(_black, sources[i]): i for i in order}
        try:
            for future in concurrent.futures.as_completed(futures):
                out[futures[future]] = future.result()  # black's own error (InvalidInput), as in one process
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return out  # type: ignore[return-value]


def _start_method() -> str:
    """fork where it is cheap and safe (Linux, no other thread running), else spawn."""
    import threading

    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _jobs(jobs: int | None) -> int:
    if jobs is None:
        try:
            jobs = int(os.environ.get("KEEL_JOBS") or 0)
        except ValueError:
            jobs = 0
    if jobs <= 0:
        try:
            jobs = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            jobs = os.cpu_count() or 1
    return max(1, jobs)


# -- the persistent cache -----------------------------------------------------------------------------------

def cache_root() -> Path | None:
    """Keel's user cache directory; None when caching is disabled (``KEEL_NO_CACHE`` set, not 0)."""
    if os.environ.get("KEEL_NO_CACHE", "") not in ("", "0"):
        return None
    if os.environ.get("KEEL_CACHE_DIR"):
        return Path(os.environ["KEEL_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "keel"
    try:
        return Path.home() / ".cache" / "keel"
    except RuntimeError:  # no home directory to be found: no cache
        return None


def cache_dir() -> Path | None:
    """Where formatted output is cached (``format/`` in the cache root); None when caching is disabled."""
    root = cache_root()
    return None if root is None else root / "format"


_PREFIX: bytes | None = None


def _key(source: str) -> str:
    global _PREFIX
    if _PREFIX is None:
        mode = ";".join(f"{k}={v!r}" for k, v in sorted(_MODE.items()))
        python = "%d.%d" % sys.version_info[:2]  # black's output does not depend on it; "it compiles" does
        _PREFIX = f"{CACHE_FORMAT}\0black {_black_version()}\0{mode}\0python {python}\0".encode()
    return hashlib.sha256(_PREFIX + source.encode("utf-8", "surrogatepass")).hexdigest()


def _black_version() -> str:
    """black's version without importing black (the metadata is enough, and much cheaper)."""
    try:
        from importlib.metadata import version

        return version("black")
    except Exception:  # noqa: BLE001 - an unusual install: ask black itself
        import black

        return black.__version__


def _entry(root: Path, key: str) -> Path:
    return root / key[:2] / key


def _read_entry(root: Path, key: str) -> str | None:
    """The cached text, or None when absent, unreadable or not exactly what was written."""
    path = _entry(root, key)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, digest, body = data[:len(_HEADER)], data[len(_HEADER):len(_HEADER) + 65], data[len(_HEADER) + 65:]
    if head != _HEADER or digest != hashlib.sha256(body).hexdigest().encode() + b"\n":
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return text


def _write_entry(root: Path, key: str, text: str) -> None:
    """Write one entry atomically (a temporary file renamed into place); never fails the generation."""
    body = text.encode("utf-8")
    path = _entry(root, key)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_HEADER + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _prune(root: Path, limit: int | None = None) -> None:
    """Past ``limit`` bytes, delete entries least recently used first down to 3/4 of it."""
    limit = CACHE_MAX_BYTES if limit is None else limit
    entries = []
    try:
        for sub in os.scandir(root):
            if sub.is_dir(follow_symlinks=False):
                for e in os.scandir(sub.path):
                    st = e.stat(follow_symlinks=False)
                    entries.append((st.st_mtime_ns, st.st_size, e.path))
    except OSError:
        return
    total = sum(size for _, size, _ in entries)
    if total <= limit:
        return
    for _, size, path in sorted(entries):
        try:
            os.unlink(path)
        except OSError:
            continue
        total -= size
        if total <= limit * 3 // 4:
            break
