"""Which tabs belong to which sign-in session, so that signing out reaches all of them.

A tab registers when its page loads (one set add; with Redis, shared by all workers). When
a session ends, ai_chat.state.auth.sign_out_tabs tells each of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import cast

import redis.asyncio as aioredis

from ai_chat.config import get_settings

log = logging.getLogger(__name__)
KEY_PREFIX = "ai_chat:session_tabs:"
MAX_TABS = 200  # per session, in this process: enough for anyone, bounded for a script

_local: dict[str, list[str]] = {}
_redis: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}


def _client() -> aioredis.Redis | None:
    url = get_settings().redis_url
    if not url:
        return None
    loop = asyncio.get_running_loop()
    if loop not in _redis:
        _redis[loop] = aioredis.Redis.from_url(url)
    return _redis[loop]


async def register(session_id: str, client_token: str) -> None:
    if not session_id or not client_token:
        return
    tabs = _local.setdefault(session_id, [])
    if client_token not in tabs:
        tabs.append(client_token)
        del tabs[:-MAX_TABS]
    if (redis := _client()) is not None:
        try:
            key = KEY_PREFIX + session_id
            async with redis.pipeline(transaction=False) as pipe:
                pipe.sadd(key, client_token)
                pipe.expire(key, int(get_settings().session_idle_days * 86400) + 60)
                await pipe.execute()
        except Exception:  # noqa: BLE001 - Redis down: this worker's own tabs are still told
            log.warning("could not register tab of session %s in Redis", session_id)


async def tabs_of(session_ids: list[str]) -> set[str]:
    tokens = {token for sid in session_ids for token in _local.get(sid, [])}
    if (redis := _client()) is not None and session_ids:
        try:
            for sid in session_ids:
                # redis-py's one annotation covers sync and asyncio clients
                members = await cast("Awaitable[set[bytes]]", redis.smembers(KEY_PREFIX + sid))
                tokens.update(m.decode() if isinstance(m, bytes) else m for m in members)
        except Exception:  # noqa: BLE001 - Redis down: only this worker's tabs
            log.warning("could not read the tabs of sessions from Redis")
    return tokens


async def forget(session_ids: list[str]) -> None:
    for sid in session_ids:
        _local.pop(sid, None)
    if (redis := _client()) is not None and session_ids:
        try:
            await redis.delete(*(KEY_PREFIX + sid for sid in session_ids))
        except Exception:  # noqa: BLE001 - Redis down: only this worker's tabs
            log.warning("could not forget the tabs of ended sessions in Redis")
