"""Engine and per-request sessions.

The database settings are the ones any careful deployment of such an app needs, and the
generated app's too, so that the benchmark compares code, not configuration: SQLite gets
foreign keys, WAL, a busy timeout and BEGIN IMMEDIATE for writing requests (SQLAlchemy's
documented recipe, so concurrent writers wait for the lock instead of failing);
PostgreSQL gets asyncpg and a pool of 10 (+10) with pre-ping.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def database_url(url: str | None = None) -> str:
    """The URL (default: $DATABASE_URL) with its async driver."""
    url = url or os.environ.get("DATABASE_URL", "sqlite:///./baseline.db")
    for sync, driver in (("sqlite://", "sqlite+aiosqlite://"), ("postgresql://", "postgresql+asyncpg://"),
                         ("postgresql+psycopg://", "postgresql+asyncpg://")):
        if url.startswith(sync):
            return driver + url[len(sync):]
    return url


def make_engine(url: str) -> AsyncEngine:
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_timeout=10)
    engine = create_async_engine(url, connect_args={"timeout": 5})

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "busy_timeout=5000", "synchronous=NORMAL"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql(f"BEGIN {connection.get_execution_options().get('sqlite_begin', 'DEFERRED')}")

    return engine


class Database:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE") if url.startswith("sqlite") else self.engine
        self.reads = async_sessionmaker(self.engine, expire_on_commit=False)
        self.writes = async_sessionmaker(writer, expire_on_commit=False)


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.reads() as session:
        yield session


async def write_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.writes() as session:
        yield session
