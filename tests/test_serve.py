"""`keel serve`: a spec becomes a running server on 127.0.0.1, and --reload follows edits to the spec."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_until(predicate, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.3)
    raise AssertionError("the server did not get there in time")


def test_serve_with_reload_follows_the_spec(tmp_path):
    shutil.copytree(REPO / "tests/specs/catalog", tmp_path / "catalog")
    port = free_port()
    base = f"http://127.0.0.1:{port}/api/suppliers"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    server = subprocess.Popen([sys.executable, "-m", "generator", "serve", "catalog", "--port", str(port), "--reload"],
                              cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        status, created = wait_until(lambda: request("POST", base, {"name": "Acme"}))
        assert status == 201 and created["slug"] == "acme"
        status, body = request("POST", base, {"name": "Bolt", "phone": "+44"})
        assert status == 422  # no such field yet
        spec = tmp_path / "catalog/keel.yaml"
        spec.write_text(spec.read_text().replace("      email: email?", "      email: email?\n      phone: string?"))
        status, created = wait_until(lambda: (lambda r: r if r[0] == 201 else None)(
            request("POST", base, {"name": "Bolt", "phone": "+44"})))
        assert created["phone"] == "+44"
        spec.write_text(spec.read_text().replace("phone: string?", "phone: strng?"))  # a broken save
        time.sleep(2)
        assert request("GET", base)[0] == 200  # the last good version keeps serving
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    assert "error[K204]" in err and "not reloaded" in err
