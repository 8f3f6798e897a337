from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import REDIS_URL, dispose_engines_after, service_missing
from tests.state.harness import Tab, event_processor, sign_in_user, use_default_cookie

_dispose_engines = pytest.fixture(autouse=True)(dispose_engines_after)


async def _redis_manager(oplock: bool):
    import redis.asyncio as aioredis
    from reflex.istate.manager.redis import StateManagerRedis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001
        await client.aclose()
        service_missing(f"Redis at {REDIS_URL}", exc)
    manager = StateManagerRedis(redis=client)
    # What rxconfig.py turns on with Redis (the manager reads the env var when built).
    manager._oplock_enabled = oplock
    return manager


@pytest.fixture(params=["memory", "redis", "redis-oplock"])
async def tab(request, app_env) -> AsyncIterator[Tab]:
    """A tab on Reflex's memory state manager and on the Redis one (multi-worker mode),
    with and without the opportunistic lock (on by default with Redis, see rxconfig.py)."""
    manager = None
    if request.param != "memory":
        manager = await _redis_manager(oplock=request.param == "redis-oplock")
    use_default_cookie(await sign_in_user("alice"))
    async with event_processor(manager) as (processor, state_manager, namespace):
        yield Tab(processor, state_manager, namespace)
    use_default_cookie("")
    if manager is not None:
        await manager.close()
