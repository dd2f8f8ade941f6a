"""A local webhook receiver and helpers for the generated app's webhook tests."""

from __future__ import annotations

import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SECRET = "a-webhook-signing-secret-of-at-least-32-bytes"


class Receiver:
    """A threaded HTTP server answering POSTs with a script of answers (then 200)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self.sent = 0  # response body bytes written
        self.done = threading.Event()  # set when a handler has finished
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body})
                answer = receiver.answers.pop(0) if receiver.answers else {}
                try:
                    receiver.answer(self, **answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    receiver.done.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, handler: BaseHTTPRequestHandler, status: int = 200, body: bytes = b"ok",
               headers: dict[str, str] | None = None, delay: float = 0.0, drip: float = 0.0,
               size: int = 0) -> None:
        time.sleep(delay)
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("content-length", str(size or len(body)))
        handler.end_headers()
        if drip:  # one byte at a time, never quite slow enough for a read timeout
            for _ in range(100):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                self.sent += 1
                time.sleep(drip)
        elif size:  # a huge answer, written until the client hangs up
            chunk = b"y" * 65536
            while self.sent < size:
                handler.wfile.write(chunk)
                self.sent += len(chunk)
        else:
            handler.wfile.write(body)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _documented_verify() -> Any:
    """The receiver's check as docs/audit.md shows it (so the documentation is tested too)."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "audit.md").read_text(encoding="utf-8")
    [snippet] = [block.split("```", 1)[0] for block in text.split("```python\n")[1:] if "def verify(" in block]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "docs/audit.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


verify = _documented_verify()


def fake_dns(monkeypatch, hooks: Any, *answers: list[str]) -> list[str]:
    """Replace the resolver: each delivery gets the next answer. Returns the names looked up."""
    asked: list[str] = []
    queue = list(answers)

    async def resolve(host: str, port: int) -> list[Any]:
        asked.append(host)
        return [hooks.ipaddress.ip_address(a) for a in queue.pop(0)]

    monkeypatch.setattr(hooks, "resolve", resolve)
    return asked

