"""Quotas on both storages: this process's memory, and the local Redis (as workers share it).

Each test gets its own key prefix in Redis, removed afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from ai_chat.config import load_settings
from ai_chat.limits import Quotas
from tests.conftest import redis_or_missing

SIGNIN_ENV = {"AI_CHAT_LIMIT_SIGNIN_PER_ACCOUNT": "3", "AI_CHAT_LIMIT_SIGNIN_PER_ADDRESS": "5"}

MakeQuotas = Callable[..., Quotas]


async def _quotas_on(redis_url: str) -> AsyncIterator[MakeQuotas]:
    prefix = f"ai_chat:test:{uuid.uuid4().hex[:12]}"
    made: list[Quotas] = []

    def make(**options) -> Quotas:
        """Another worker's Quotas (the same Redis and key prefix, when on Redis)."""
        options.setdefault("redis_url", redis_url)
        quotas = Quotas(load_settings(SIGNIN_ENV), key_prefix=prefix, **options)
        made.append(quotas)
        return quotas

    yield make
    for quotas in made:
        await quotas.close()
    if redis_url:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(redis_url)
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def make_quotas(request: pytest.FixtureRequest) -> AsyncIterator[MakeQuotas]:
    """Builds Quotas on this param's storage."""
    redis_url = await redis_or_missing() if request.param == "redis" else ""
    async for make in _quotas_on(redis_url):
        yield make


@pytest.fixture
async def make_redis_quotas() -> AsyncIterator[MakeQuotas]:
    """Quotas of several workers sharing the local Redis."""
    async for make in _quotas_on(await redis_or_missing()):
        yield make
