"""Async engines and sessions, one engine per URL per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.config import get_settings

_engines: dict[str, AsyncEngine] = {}


def get_engine(url: str | None = None) -> AsyncEngine:
    url = url or get_settings().async_db_url
    if url not in _engines:
        _engines[url] = create_async_engine(url, pool_pre_ping=True)
    return _engines[url]


@asynccontextmanager
async def session_scope(url: str | None = None) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error."""
    maker = async_sessionmaker(get_engine(url), class_=AsyncSession, expire_on_commit=False)
    async with maker() as session:
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
