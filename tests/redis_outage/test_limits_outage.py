"""Limits across a real Redis outage (the test's own server, killed and started again):
sends are admitted from this worker's memory meanwhile, and counted in Redis again after."""

from __future__ import annotations

import pytest

from ai_chat import redis_monitor
from ai_chat.config import load_settings
from ai_chat.limits import Quotas
from ai_chat.limits.user_limits import UserLimits
from ai_chat.store.models import new_id
from tests.conftest import wait_until
from tests.redis_outage.own_redis import OwnRedis

pytestmark = pytest.mark.redis  # its own redis-server, killed and restarted

LIMITS = UserLimits(messages_per_minute=100, concurrent_replies=2, tokens_per_day=10_000)


async def test_limits_fall_back_and_come_back(redis_server, monkeypatch):
    woken: list[bool] = []
    monkeypatch.setattr(redis_monitor, "report_failure", lambda: woken.append(True))
    quotas = Quotas(load_settings({}), redis_url=redis_server.url, key_prefix="t")
    other = Quotas(load_settings({}), redis_url=redis_server.url, key_prefix="t")
    quotas.backend.breaker.retry_s = 0.05
    user = new_id()
    try:
        assert await quotas.admit(user, "before", LIMITS, new_id()) is None
        await quotas.release_reply("before")

        redis_server.kill()
        # Not refused, not raised: this worker's memory holds the limits meanwhile.
        assert await quotas.admit(user, "during", LIMITS, new_id()) is None
        assert quotas.backend.breaker.down and woken  # the banner's monitor was told
        await quotas.record_tokens(user, LIMITS, 5)
        await quotas.release_reply("during")

        redis_server.start()
        await wait_until(lambda: quotas.backend.breaker.closed, what="the retry time")
        await quotas.record_tokens(user, LIMITS, 7)
        assert not quotas.backend.breaker.down
        assert await other.tokens_used(user) == 7  # in Redis, seen by another worker
        assert await quotas.admit(user, "after", LIMITS, new_id()) is None
        await quotas.release_reply("after")
    finally:
        await quotas.close()
        await other.close()


async def test_a_slot_released_during_the_outage_is_freed_when_redis_returns(tmp_path):
    """Redis comes back with its data (append-only file): the conversation's slot, taken
    before the outage, whose release Redis missed, is freed at once, not at its lease's end
    (another worker's send into the conversation was refused meanwhile)."""
    redis_server = OwnRedis(tmp_path / "redis", persist=True)
    redis_server.start()
    quotas = Quotas(load_settings({}), redis_url=redis_server.url, key_prefix="t")
    other = Quotas(load_settings({}), redis_url=redis_server.url, key_prefix="t")
    user, conversation = new_id(), new_id()
    try:
        assert await quotas.admit(user, "before", LIMITS, conversation) is None
        redis_server.kill()
        await quotas.release_reply("before")  # missed by Redis
        assert quotas.slots.missed == 1
        redis_server.start()  # with the slot still taken
        refusal = await other.acquire_reply(user, "elsewhere", LIMITS, conversation)
        assert refusal is not None and refusal.kind == "conversation_busy", refusal
        await quotas.slots.release_missed()  # what the worker's Redis watch does
        assert quotas.slots.missed == 0
        assert await other.acquire_reply(user, "elsewhere", LIMITS, conversation) is None
        await other.release_reply("elsewhere")
    finally:
        await quotas.close()
        await other.close()
        redis_server.kill()
