"""Pure ASGI middleware (no per-request task, unlike @app.middleware("http")).

Request ids (the client's if sane, else a new one) and the security headers on every
response; request bodies over the limit refused with 413 before the app reads them.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson

SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
SECURITY = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin"),
            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]


class ApiHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if SAFE_ID.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *SECURITY, (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    def __init__(self, app: Any, max_bytes: int = 1 << 20) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await self.refuse(scope, send)
        seen = 0

        async def limited_receive() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self.refuse(scope, send)

    async def refuse(self, scope: dict, send: Any) -> None:
        body = orjson.dumps({"type": "urn:catalog:problem:body_too_large", "title": "Content Too Large",
                             "status": 413, "detail": f"The request body exceeds {self.max_bytes} bytes.",
                             "code": "body_too_large", "request_id": scope.get("state", {}).get("request_id")})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json")]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
