"""Process-wide services, built lazily from settings (one per worker process)."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from functools import lru_cache

import anthropic

from ai_chat.config import get_settings
from ai_chat.generation.cancellation import Cancellation, LocalCancellation
from ai_chat.generation.live import LiveReplies
from ai_chat.generation.runner import GenerationService
from ai_chat.limits import Quotas
from ai_chat.llm.client import ClientShards

# Identifies this worker process: a generation started by another (e.g. before a restart)
# cannot be running here.
PROCESS_ID = uuid.uuid4().hex


def is_orphaned(owner_process: str) -> bool:
    """A tab's generation whose process is gone (single-process deployments only: with
    Redis, other workers may legitimately own it)."""
    return bool(owner_process) and owner_process != PROCESS_ID and not get_settings().redis_url


# Connection pools per worker (see ClientShards): up to 32 streams each before the next
# is used, 8 of them before they share the load evenly.
CLIENT_SHARDS, STREAMS_PER_SHARD = 8, 32


@lru_cache(maxsize=1)
def _clients() -> ClientShards:
    return ClientShards(get_settings(), CLIENT_SHARDS, STREAMS_PER_SHARD)


async def build_clients() -> None:
    """A lifespan task: the clients are ready before the first reply (~40 ms of CPU)."""
    _clients()


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
