"""A tab whose state lives in Redis (Reflex's Redis state manager, opportunistic lock on, as
served) streams a reply when its Redis server is killed: the tab's task can no longer touch
its state, the reply still runs to its end and is stored, and once Redis is back (empty)
the tab opens the conversation with the reply in it and sends again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from reflex.istate.manager.redis import StateManagerRedis

from ai_chat.generation import runtime
from ai_chat.reflex_redis import REDIS_DOWN_TOAST, backend_exception_handler
from ai_chat.store.db import session_scope
from ai_chat.store.models import Message
from tests.conftest import eventually, wait_until
from tests.generation.helpers import stored_messages
from tests.redis_outage.own_redis import OwnRedis
from tests.state.harness import Tab, event_processor, sign_in_user, use_default_cookie
from tests.state.test_send_stream import wait_idle

pytestmark = pytest.mark.redis  # its own redis-server, killed and restarted


@pytest.fixture
async def redis_tab(app_env, redis_server: OwnRedis) -> AsyncIterator[Tab]:
    app_env(redis_url=redis_server.url)
    manager = StateManagerRedis(redis=aioredis.Redis.from_url(redis_server.url))
    manager._oplock_enabled = True  # as rxconfig.py sets it with Redis
    use_default_cookie(await sign_in_user("alice"))
    try:
        async with event_processor(manager) as (processor, state_manager, namespace):
            yield Tab(processor, state_manager, namespace)
    finally:
        use_default_cookie("")
        service = runtime.get_service()
        await service.cancellation.close()
        await service.quotas.close()
        with_timeout = asyncio.wait_for(manager.close(), 10)
        await asyncio.gather(with_timeout, return_exceptions=True)


async def test_redis_killed_mid_reply_the_reply_is_stored_and_the_tab_recovers(
    redis_tab: Tab, redis_server: OwnRedis, sim
):
    tab = redis_tab
    await tab.open()
    await tab.send("outage [[sim tokens=240 tps=40 ttft=0]]")
    await eventually(lambda: _has_text(tab), what="the reply's first text")
    live = await tab.live()
    message_id, owner = live.live_message_id, tab.owner
    service = runtime.get_service()

    redis_server.kill()
    # The turn no longer depends on the tab: it ends and is stored.
    await wait_until(lambda: not service.live.__len__(), timeout=30, what="the turn's end")

    async def stored() -> list[Message]:
        async with session_scope() as session:
            row = await session.get(Message, message_id)
        return [row] if row is not None and row.status in ("complete", "failed") else []

    await eventually(stored, timeout=30, what="the reply stored")
    (row,) = await stored()
    assert row.status == "complete" and row.content

    redis_server.start()  # back, and empty: the tab's state is gone
    # The all-clear push makes each tab send its reconnect event, which runs the page's
    # on_load (here without an app to find it: the browser test does that part).
    await tab.open(row.conversation_id)
    chat = await tab.chat()
    shown = chat._shown_messages()
    assert [m.role for m in shown] == ["user", "assistant"]
    assert shown[-1].content == row.content
    await tab.send("again [[sim tokens=5 ttft=0]]")
    await wait_idle(tab)
    rows = await stored_messages(row.conversation_id, owner=owner)
    assert [r.status for r in rows] == ["complete"] * 4


async def _has_text(tab: Tab) -> bool:
    return bool(await tab.live_text())


def test_an_event_failing_on_redis_says_so_plainly():
    import redis.exceptions

    try:
        try:
            raise redis.exceptions.ConnectionError("Connection refused")
        except redis.exceptions.RedisError as exc:
            raise RuntimeError("while processing an event") from exc
    except RuntimeError as wrapped:
        spec = backend_exception_handler(wrapped)
    assert REDIS_DOWN_TOAST in str(spec)
    assert "An error occurred" in str(backend_exception_handler(ValueError("a bug")))
