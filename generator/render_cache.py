"""A shortcut for regenerating a spec that has not changed: nothing to load, render or format.

What `keel generate` writes is a function of the spec's files, Keel's own code and
templates, and black's version (the determinism tests hold it to that). After a
run, Keel records a fingerprint of those inputs with the hash of every file it
produced. A later `keel generate` or `keel check` whose inputs have the same
fingerprint, against an output directory whose manifest and files still hold
exactly those bytes, has nothing to do and says so without importing the
validator, the IR, Jinja or black. Anything else (a different fingerprint, a
missing or edited file, an unreadable cache entry) takes the normal path, which
re-records the entry. Specs with diagnostics are never recorded: their warnings
must be shown every time.

The spec's inputs are every ``.yaml``/``.yml`` file under the spec directory (so a
new file an ``include`` glob would pick up changes the fingerprint too); a spec
directory with more than ``_MAX_INPUTS`` of them is not cached.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from generator import __version__
from generator.formatting import _black_version, cache_root
from generator.paths import templates_dir
from generator.writer import MANIFEST, _probe, manifest_from_hashes

__all__ = ["Entry", "fingerprint", "lookup", "record", "spec_root", "up_to_date"]

_FORMAT = "keel.render-cache/1"
_MAX_INPUTS = 500
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv"}
_KEEL_CODE: str | None = None

Entry = dict  # {"format", "package", "outputs": {path: sha256}}


def _keel_code() -> str:
    """A hash of Keel's own code and templates: any change to the generator changes the output."""
    global _KEEL_CODE
    if _KEEL_CODE is None:
        digest = hashlib.sha256(f"{__version__}\0black {_black_version()}\0".encode())
        package = Path(__file__).resolve().parent
        for base in (package, templates_dir()):
            for path in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                digest.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        _KEEL_CODE = digest.hexdigest()
    return _KEEL_CODE


def spec_root(spec: Path) -> Path | None:
    """The spec directory, as the loader names it (absolute, links not resolved); None if there is no spec."""
    if spec.is_dir():
        return Path(os.path.abspath(spec)) if (spec / "keel.yaml").is_file() else None
    if spec.is_file() and spec.suffix.lower() in (".yaml", ".yml"):
        return Path(os.path.abspath(spec.parent))
    return None


def fingerprint(spec: Path) -> str | None:
    """The hash of everything the output of generating ``spec`` depends on; None when not cacheable."""
    if cache_root() is None:
        return None
    root = spec_root(Path(spec))
    if root is None:
        return None
    digest = hashlib.sha256(f"{_FORMAT}\0{_keel_code()}\0{Path(spec).resolve()}\0".encode())
    count = 0
    for directory, dirs, names in os.walk(root):
        if ".keel-manifest.json" in names:  # a generated output inside the spec directory: not an input
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            # Python files: the spec's extension modules, which validation reads (a hook renamed in the
            # module but not in the spec must be reported again, not skipped as "unchanged").
            if not name.lower().endswith((".yaml", ".yml", ".py")):
                continue
            count += 1
            if count > _MAX_INPUTS:
                return None
            path = Path(directory) / name
            try:
                data = path.read_bytes()
            except OSError:
                return None
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _entry_path(key: str) -> Path | None:
    root = cache_root()
    return None if root is None else root / "render" / key[:2] / f"{key}.json"


def lookup(key: str | None) -> Entry | None:
    path = _entry_path(key) if key else None
    if path is None:
        return None
    try:
        entry = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    ok = (isinstance(entry, dict) and entry.get("format") == _FORMAT and isinstance(entry.get("package"), str)
          and isinstance(entry.get("outputs"), dict))
    return entry if ok else None


def record(key: str | None, package: str, files: dict[str, bytes]) -> None:
    """Remember what ``key``'s inputs produce. Best effort: the cache is only ever a shortcut."""
    path = _entry_path(key) if key else None
    if path is None:
        return
    entry = {"format": _FORMAT, "package": package,
             "outputs": {p: hashlib.sha256(files[p]).hexdigest() for p in sorted(files)}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entry, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def up_to_date(out_dir: Path, entry: Entry, spec_ref: str) -> int | None:
    """How many files ``out_dir`` holds exactly as ``entry`` says, manifest included; None if any differs."""
    if not out_dir.is_dir():
        return None
    root = os.path.realpath(out_dir)
    outputs: dict[str, str] = entry["outputs"]
    kind, raw, _ = _probe(out_dir, root, MANIFEST)
    if kind != "file" or raw != manifest_from_hashes(outputs, spec_ref):
        return None
    for rel, digest in outputs.items():
        kind, data, _ = _probe(out_dir, root, rel)
        if kind != "file" or hashlib.sha256(data).hexdigest() != digest:
            return None
    return len(outputs)

