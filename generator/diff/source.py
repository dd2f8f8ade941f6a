"""Where the two versions come from: a spec path, or a spec as it was at a git revision.

A revision is read with ``git archive REV -- PATH`` into a temporary directory (the
working tree is never touched), then validated like any spec; its files are shown
as ``REV:PATH/file``. Problems that are the caller's (not a git repository, an
unknown revision, a spec missing at that revision) raise ``SourceError``: a usage
error, exit 2.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Checkout", "SourceError", "checkout"]


class SourceError(Exception):
    pass


@dataclass
class Checkout:
    path: Path  # the spec (directory or file) inside ``tmp``
    shown_root: str  # REV:path/of/spec/dir
    spec_dir: Path  # the spec directory inside ``tmp``
    tmp: Path

    def cleanup(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=120, check=False)
    except FileNotFoundError:
        raise SourceError("git is not installed (needed to read a spec at a revision)") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"git {args[0]} took too long") from None


def checkout(revision: str, spec: Path) -> Checkout:
    """The spec at ``spec`` (a path in the working tree) as it was at ``revision``."""
    if revision.startswith("-"):
        raise SourceError(f"{revision!r} is not a git revision")
    here = spec if spec.is_dir() else spec.parent
    if not here.exists():
        here = Path.cwd()
    top = _git(["rev-parse", "--show-toplevel"], here.resolve() if here.exists() else Path.cwd())
    if top.returncode != 0:
        raise SourceError(f"{spec} is not inside a git repository, so it has no revision {revision!r}")
    root = Path(top.stdout.decode().strip())
    commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"], root)
    if commit.returncode != 0:
        raise SourceError(f"unknown git revision {revision!r}")
    sha = commit.stdout.decode().strip()
    try:
        relative = spec.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise SourceError(f"{spec} is outside the git repository at {root}") from None
    folder = relative if spec.is_dir() or not spec.suffix else relative.rsplit("/", 1)[0] if "/" in relative else "."
    archive = _git(["archive", "--format=tar", sha, "--", folder if folder != "." else "."], root)
    if archive.returncode != 0:
        raise SourceError(f"{folder} does not exist at revision {revision!r}")
    tmp = Path(tempfile.mkdtemp(prefix="keel-diff-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")  # no absolute paths, links out or special files
    except (tarfile.TarError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SourceError(f"cannot read {folder} at revision {revision!r}: {exc}") from None
    path = tmp / relative
    if not path.exists():
        shutil.rmtree(tmp, ignore_errors=True)
        raise SourceError(f"{relative} does not exist at revision {revision!r}")
    spec_dir = path if path.is_dir() else path.parent
    shown = f"{revision}:{folder}" if spec.is_dir() or not spec.suffix else f"{revision}:{folder}"
    return Checkout(path, shown, spec_dir, tmp)
