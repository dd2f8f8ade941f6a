"""What the benchmark runs against: the generated app, scratch databases, uvicorn servers.

The catalog app is generated fresh from tests/specs/catalog with the current templates
(with a private format cache, never the user's). Each database gets its schema from
the generated app's own Alembic migration, the way a user creates it; PostgreSQL
databases are scratch ones, dropped at the end. Every server is one uvicorn worker
started the same way (`python -m uvicorn --factory`, no access log), in its own process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
WORK = REPO / ".cache" / "bench" / "api"
GENERATED = WORK / "out"
SPEC = REPO / "tests" / "specs" / "catalog"
PG_ADMIN_URL = os.environ.get("KEEL_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def generate_catalog() -> Path:
    """`keel generate tests/specs/catalog` into .cache/bench/api/out; returns that directory."""
    shutil.rmtree(GENERATED, ignore_errors=True)
    env = {**os.environ, "KEEL_CACHE_DIR": str(WORK / "keel-cache")}
    subprocess.run([sys.executable, "-m", "generator", "generate", str(SPEC), "--out", str(GENERATED)],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return GENERATED


def migrate(url: str) -> None:
    """The generated app's `python -m catalog migrate` (alembic upgrade head)."""
    subprocess.run([sys.executable, "-m", "catalog", "migrate"], cwd=GENERATED, env={**os.environ, "DATABASE_URL": url},
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(_plain(PG_ADMIN_URL), connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001  (any failure means: no PostgreSQL for this run)
        return False


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextlib.contextmanager
def database(backend: str, name: str) -> Iterator[str]:
    """A new, migrated, empty database; yields its URL (sync form) and removes it afterwards."""
    if backend == "sqlite":
        path = WORK / f"{name}.db"
        for leftover in WORK.glob(f"{name}.db*"):
            leftover.unlink()
        url = f"sqlite:///{path}"
        migrate(url)
        try:
            yield url
        finally:
            for leftover in WORK.glob(f"{name}.db*"):
                leftover.unlink()
        return
    import psycopg

    db_name = f"keel_bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_plain(PG_ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db_name}"')
    url = _plain(PG_ADMIN_URL).rsplit("/", 1)[0] + "/" + db_name
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(_plain(PG_ADMIN_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# name -> (directory on sys.path, factory)
APPS = {
    "generated": (GENERATED, "catalog.app:create_app"),
    "baseline": (BENCH, "baseline.app:create_app"),
    "ceiling": (BENCH, "baseline.ceiling:create_app"),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name: str, database_url: str, log: Path) -> Server:
    """One uvicorn worker serving app `name`; returns once it answers HTTP."""
    app_dir, factory = APPS[name]
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--app-dir", str(app_dir),
               "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONDONTWRITEBYTECODE": "1"}
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(name, port, process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} server exited at start ({process.returncode}); see {log}")
        try:
            urllib.request.urlopen(server.url + "/", timeout=2).close()
            return server
        except urllib.error.HTTPError:  # any HTTP answer (a 404 here) means it is serving
            return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    raise SystemExit(f"{name} server did not start within 60 s; see {log}")


def cpu_seconds(server: Server) -> float | None:
    """CPU time the server process has used so far (all its threads: aiosqlite's included); Linux only."""
    try:
        fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
