"""Process-wide services, built lazily from settings (one per worker process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from functools import lru_cache

import anthropic

from ai_chat.config import get_settings
from ai_chat.generation.cancellation import Cancellation, LocalCancellation
from ai_chat.generation.fanout import close_all_watchers
from ai_chat.generation.live_reply import LiveReplies
from ai_chat.generation.runner import GenerationService
from ai_chat.limits import Quotas
from ai_chat.llm.client import ClientShards

# Connection pools per worker (see ClientShards): up to 32 streams each before the next
# is used, 8 of them before they share the load evenly.
CLIENT_SHARDS, STREAMS_PER_SHARD = 8, 32


@lru_cache(maxsize=1)
def _clients() -> ClientShards:
    return ClientShards(get_settings(), CLIENT_SHARDS, STREAMS_PER_SHARD)


async def build_clients() -> None:
    """A lifespan task: the clients are ready before the first reply (~40 ms of CPU)."""
    _clients()


@asynccontextmanager
async def durable_replies() -> AsyncIterator[None]:
    """A lifespan task. Start: the sweeper (replies whose worker is gone become interrupted,
    at once and every few seconds). Shutdown (SIGTERM): new turns are refused, replies in
    flight get AI_CHAT_SHUTDOWN_GRACE_S to end, the rest are stored as interrupted. It is
    registered after Reflex's event processor, so it drains before that stops."""
    service = get_service()
    service.durability.start()
    try:
        yield
    finally:
        await service.durability.drain(service.settings.shutdown_grace_s)
        close_all_watchers()  # other tabs' watchers end now, not at their next idle tick


def client_lease() -> AbstractContextManager[anthropic.AsyncAnthropic]:
    """A client for one reply, held until its stream is closed."""
    return _clients().lease()


def _cancellation() -> Cancellation:
    """Local by default; through Redis when workers share Reflex's Redis state."""
    redis_url = get_settings().redis_url
    if redis_url:
        from ai_chat.generation.redis_cancellation import RedisCancellation

        return RedisCancellation(redis_url)
    return LocalCancellation()


@lru_cache(maxsize=1)
def get_service() -> GenerationService:
    settings = get_settings()
    return GenerationService(
        settings=settings,
        client_lease=client_lease,
        cancellation=_cancellation(),
        live=LiveReplies(),
        # Limits: in Redis when configured (shared by the workers), else in this process.
        quotas=Quotas(settings),
    )


def reset() -> None:
    """Forget the cached services (tests change settings between cases)."""
    _clients.cache_clear()
    get_service.cache_clear()
    get_settings.cache_clear()
