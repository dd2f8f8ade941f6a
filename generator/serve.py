"""`keel serve`: generate, migrate and run a spec's backend, and with --reload follow the spec live.

The app runs as a child process (``python -m <app>``), so a regeneration can
restart it cleanly. Without --out, code goes to a cache directory Keel owns
(``.keel/serve/<app>``) with a development SQLite database next to it; when a
spec change alters the schema, that development database is recreated, since
the initial migration it was built from has changed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

POLL_SECONDS = 0.5


@dataclass
class ServeOptions:
    spec: Path
    out: Path | None
    host: str
    port: int
    reload: bool


class ServeError(Exception):
    """A problem to report and stop on (exit code 1): invalid spec, refused write."""


def _generate(spec: Path, out: Path | None, report: Callable[[object], None]) -> tuple[str, Path, list[str], bool]:
    """Validate and write; returns (package, output dir, spec files, schema changed)."""
    from generator.generate import MigrationRefused, render_files
    from generator.ir import build_ir
    from generator.pipeline import validate_path
    from generator.targets.revisions import read_previous
    from generator.writer import WriteRefused, apply, plan

    result = validate_path(spec)
    if not result.ok:
        report(result)
        raise ServeError("the spec has errors; fix them and save again")
    ir = build_ir(result.spec, result.source_map, result.root)
    owned = out is None
    out_dir = out if out is not None else Path(".keel") / "serve" / ir.package
    # Keel's own directory keeps one initial revision (its database is recreated when the schema
    # changes); a directory of the user's follows its migration history like `keel generate`.
    try:
        files = render_files(ir, None if owned else read_previous(out_dir))
    except MigrationRefused as refused:
        report_losses = "; ".join(f"[{loss.code}] {loss.message}" for loss in refused.losses)
        raise ServeError(f"no migration written: {report_losses} (see `keel generate`)") from None
    spec_ref = Path(os.path.relpath(result.root, os.path.abspath(out_dir))).as_posix()
    changes = plan(out_dir, files, spec_ref)
    try:
        apply(out_dir, changes, files, spec_ref, force=owned)  # the cache directory is Keel's own
    except WriteRefused as refused:
        raise ServeError(f"refusing to overwrite files in {out_dir} that Keel did not generate: "
                         + ", ".join(c.path for c in refused.conflicts)) from None
    touched = set(changes.create) | set(changes.update)
    schema_changed = any(p.startswith("migrations/versions/") for p in touched)
    return ir.package, out_dir, list(result.files), schema_changed


def _start(package: str, out_dir: Path, options: ServeOptions) -> subprocess.Popen:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{(out_dir / (package + '.db')).resolve()}")
    return subprocess.Popen([sys.executable, "-m", package, "serve", "--host", options.host, "--port",
                             str(options.port)], cwd=out_dir, env=env)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _mtimes(files: list[str]) -> dict[str, float]:
    out = {}
    for f in files:
        try:
            out[f] = os.stat(f).st_mtime
        except OSError:
            out[f] = -1.0
    return out


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def serve(options: ServeOptions, say: Callable[[str], None], report: Callable[[object], None]) -> int:
    # SIGTERM stops like Ctrl+C, so the server child is always stopped with us, never orphaned.
    signal.signal(signal.SIGTERM, _interrupt)
    package, out_dir, files, _ = _generate(options.spec, options.out, report)
    say(f"serving {package} from {out_dir} on http://{options.host}:{options.port} (Ctrl+C to stop)")
    process = _start(package, out_dir, options)
    try:
        if not options.reload:
            return process.wait()
        seen = _mtimes(files)
        while True:
            time.sleep(POLL_SECONDS)
            now = _mtimes(files)
            if now == seen:
                if process.poll() is not None:
                    say("the server stopped; save the spec to try again")
                continue
            seen = now
            try:
                package, out_dir, files, schema_changed = _generate(options.spec, options.out, report)
            except ServeError as exc:
                say(f"not reloaded: {exc}")
                continue
            seen = _mtimes(files)
            _stop(process)
            if schema_changed and options.out is None and "DATABASE_URL" not in os.environ:
                (out_dir / f"{package}.db").unlink(missing_ok=True)
                say("the schema changed: the development database was recreated")
            say("spec changed: regenerated and restarted")
            process = _start(package, out_dir, options)
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            _stop(process)
