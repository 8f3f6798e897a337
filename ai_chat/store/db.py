"""Async engines and sessions, one engine per URL per process.

SQLite (the embedded default) gets WAL (readers never block the writer), a 30 s busy
timeout, and, within a process, one writing session at a time: under a burst of concurrent
turns its single writer would otherwise time out and fail turns with "database is locked"
(measured by the benchmark suite at 200 streams). Reads (`read_scope`) skip that queue:
at 200 streams the sidebar and page loads waiting behind the turn writes delayed every
turn's end by seconds. PostgreSQL needs none of this.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.config import get_settings

SQLITE_BUSY_TIMEOUT_S = 30

_engines: dict[str, AsyncEngine] = {}
# One lock per event loop (tests run many loops; a server runs one).
_sqlite_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def get_engine(url: str | None = None) -> AsyncEngine:
    url = url or get_settings().async_db_url
    if url not in _engines:
        if _is_sqlite(url):
            engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
            event.listen(engine.sync_engine, "connect", _tune_sqlite)
        else:
            engine = create_async_engine(url, pool_pre_ping=True)
        _engines[url] = engine
    return _engines[url]


def _serialized(url: str) -> contextlib.AbstractAsyncContextManager:
    if not _is_sqlite(url):
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    if loop not in _sqlite_locks:
        _sqlite_locks[loop] = asyncio.Lock()
    return _sqlite_locks[loop]


@asynccontextmanager
async def read_scope(url: str | None = None) -> AsyncIterator[AsyncSession]:
    """A session for reading only: nothing it does is committed."""
    async with AsyncSession(get_engine(url), expire_on_commit=False) as session:
        yield session


@asynccontextmanager
async def session_scope(url: str | None = None) -> AsyncIterator[AsyncSession]:
    """A session that writes: commits on success and rolls back on error."""
    engine = get_engine(url)
    maker = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    async with _serialized(str(engine.url)), maker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def dispose_engines() -> None:
    for engine in _engines.values():
        await engine.dispose()
    _engines.clear()
