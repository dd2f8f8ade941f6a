"""An app served in this process through an ASGI client, with its SQL statements counted.

For what a load generator cannot see: which statements a request runs (counted with
SQLAlchemy's `before_cursor_execute` event on the app's own engine, so every statement
SQLAlchemy sends is seen, BEGIN included; connection set-up PRAGMAs and asyncpg's
pool pre-ping go through the driver directly and are not), and the latency of one
request at a time without any network or load-generator noise.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
from sqlalchemy import event

from apibench.stack import BENCH, GENERATED


def make_app(kind: str, url: str) -> tuple[Any, Any]:
    """The ASGI app and a function giving its engine once started, for `generated` or `baseline`."""
    for path in (str(GENERATED), str(BENCH)):
        if path not in sys.path:
            sys.path.insert(0, path)
    if kind == "generated":
        app = importlib.import_module("catalog.app").create_app(
            importlib.import_module("catalog.settings").load_settings({"DATABASE_URL": url}))
        return app, lambda: app.state.database.engine
    app = importlib.import_module("baseline.app").create_app(url)
    return app, lambda: app.state.db.engine


@dataclass
class Statements:
    """SQL statements sent since the last reset."""

    sql: list[str] = field(default_factory=list)

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.sql.append(statement)

    def take(self) -> list[str]:
        taken, self.sql = self.sql, []
        return taken


@dataclass
class Served:
    client: httpx2.AsyncClient
    statements: Statements


@asynccontextmanager
async def served(kind: str, url: str) -> AsyncIterator[Served]:
    app, engine = make_app(kind, url)
    async with app.router.lifespan_context(app):
        statements = Statements()
        sync_engine = engine().sync_engine
        event.listen(sync_engine, "before_cursor_execute", statements)
        try:
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://bench") as client:
                yield Served(client, statements)
        finally:
            event.remove(sync_engine, "before_cursor_execute", statements)
