"""Async engines and sessions, one engine per URL per process.

SQLite (the embedded default) gets WAL (readers never block the writer), a busy timeout,
and, within a process, one writing session at a time: under a burst of concurrent turns its
single writer would otherwise time out and fail turns with "database is locked". Reads
(`read_scope`) skip that queue, so sidebar and page loads never wait behind turn writes.
PostgreSQL needs none of this.

`run_write` / `run_read` run a plain function of a sync Session as one unit: on SQLite
directly on the event loop over the standard sqlite3 driver (a turn's write is short in WAL
mode). Through aiosqlite every cursor, statement, fetch and commit would be a round trip to
its thread, each waiting for a full loop iteration on a busy server, and a worker thread
would pay GIL hand-offs with the busy loop per statement; docs/PERFORMANCE.md has what each
cost. The write queue's lock is held around the call, so no aiosqlite write transaction
(the UI's renames, settings) is open meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, TypeVarTuple, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.config import get_settings

SQLITE_BUSY_TIMEOUT_S = 30
T = TypeVar("T")
Args = TypeVarTuple("Args")

_engines: dict[str, AsyncEngine] = {}
_sync_engines: dict[str, Engine] = {}
# One lock per event loop (tests run many loops; a server runs one).
_sqlite_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def writes_queue(url: str | None = None) -> bool:
    """Whether this database takes one write at a time (SQLite), so writes wait in a queue."""
    return _is_sqlite(url or get_settings().async_db_url)


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
            # Kept open, none on overflow: a burst of turn starts would open and close
            # overflow connections over and over, paying asyncpg's connect and the prepared
            # statements it forgets each time. Same most-at-once as SQLAlchemy's 5 + 10.
            size = get_settings().db_pool_size
            engine = create_async_engine(url, pool_pre_ping=True, pool_size=size, max_overflow=0)
        _engines[url] = engine
    return _engines[url]


def _serialized(url: str) -> contextlib.AbstractAsyncContextManager[object]:
    if not _is_sqlite(url):
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    if loop not in _sqlite_locks:
        _sqlite_locks[loop] = asyncio.Lock()
    return _sqlite_locks[loop]


def _sync_engine(url: str) -> Engine:
    """SQLite over the standard driver, for run_write / run_read."""
    sync = "sqlite" + url.removeprefix("sqlite+aiosqlite")
    if sync not in _sync_engines:
        engine = create_engine(
            sync, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        )
        event.listen(engine, "connect", _tune_sqlite)
        _sync_engines[sync] = engine
    return _sync_engines[sync]


def _in_session(
    engine: Engine, work: Callable[[Session, *Args], T], args: tuple[*Args], *, commit: bool
) -> T:
    with Session(engine, expire_on_commit=False) as session:
        result = work(session, *args)
        if commit:
            session.commit()
        return result


async def run_sync(session: AsyncSession, work: Callable[[Session, *Args], T], *args: *Args) -> T:
    """`work(sync_session, *args)` on `session`'s connection (`AsyncSession.run_sync`)."""

    def call(sync_session: OrmSession) -> T:
        # sqlmodel's AsyncSession hands `run_sync` its own Session class (its
        # `sync_session_class`); SQLAlchemy's signature only promises the base class.
        return work(cast(Session, sync_session), *args)

    return await session.run_sync(call)


async def run_write(work: Callable[[Session, *Args], T], *args: *Args, url: str | None = None) -> T:
    """`work(session, *args)` in one committed transaction (rolled back if it raises)."""
    url = url or get_settings().async_db_url
    if _is_sqlite(url):
        async with _serialized(url):
            return _in_session(_sync_engine(url), work, args, commit=True)
    async with session_scope(url) as session:
        return await run_sync(session, work, *args)


async def run_read(work: Callable[[Session, *Args], T], *args: *Args, url: str | None = None) -> T:
    """`work(session, *args)` for reading: nothing is committed, no write queue."""
    url = url or get_settings().async_db_url
    if _is_sqlite(url):
        return _in_session(_sync_engine(url), work, args, commit=False)
    async with read_scope(url) as session:
        return await run_sync(session, work, *args)


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
    for sync_engine in _sync_engines.values():
        sync_engine.dispose()
    _sync_engines.clear()
