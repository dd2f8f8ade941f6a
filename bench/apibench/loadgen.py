"""Running the load generator: wrk when there is one, else the Python client.

wrk (Debian's package) is the load generator of choice: a C event loop that leaves
the cores to the server. When it is missing and we are root on a Debian-like system,
it is installed on demand with apt-get (KEEL_BENCH_NO_INSTALL=1 stops that); otherwise
pyload.py, a small asyncio client, takes its place. Either runs in its own process
with one thread, a fixed number of keep-alive connections, for a fixed time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # connection errors and timeouts
    non_2xx: int
    server_cpu_ms: float | None = None  # CPU time of the server process per request


    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def find_wrk() -> str | None:
    """wrk's path, installing Debian's package first if possible and allowed; None: use pyload."""
    if path := shutil.which("wrk"):
        return path
    if os.environ.get("KEEL_BENCH_NO_INSTALL") or not shutil.which("apt-get") or os.geteuid() != 0:
        return None
    print("wrk is not installed: apt-get install -y wrk ...", file=sys.stderr)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": {**os.environ,
             "DEBIAN_FRONTEND": "noninteractive"}}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet).returncode != 0:
        subprocess.run(["apt-get", "update"], **quiet)
        subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet)
    return shutil.which("wrk")


def run(tool: str | None, url: str, requests_file: Path, seconds: float, connections: int) -> Result:
    """One measurement: replay `requests_file` against `url` (http://host:port) for `seconds`."""
    if tool:
        command = [tool, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                   "-s", str(HERE / "replay.lua"), url, "--", str(requests_file)]
    else:
        host, port = url.removeprefix("http://").split(":")
        command = [sys.executable, str(HERE / "pyload.py"), host, port, str(requests_file), str(connections),
                   str(seconds)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"load generator failed ({proc.returncode}): {' '.join(command)}\n{proc.stdout}{proc.stderr}")
    data = json.loads(lines[-1])
    return Result(data["requests"], data["duration_us"] / 1e6, data["p50_us"] / 1000, data["p99_us"] / 1000,
                  data["errors"], data["non_2xx"])
