"""Limits across workers (Quotas instances sharing one Redis), a worker's crash, and Redis
going away."""

from __future__ import annotations

import logging
import uuid

import pytest
import redis.asyncio as aioredis

from ai_chat import redis_monitor
from ai_chat.config import load_settings
from ai_chat.limits import Quotas, UserLimits
from tests.conftest import REDIS_URL, eventually, wait_until
from tests.limits.conftest import SIGNIN_ENV, MakeQuotas


def new_id() -> str:
    return uuid.uuid4().hex


@pytest.mark.redis
async def test_two_workers_share_every_limit(make_redis_quotas: MakeQuotas):
    one, two = make_redis_quotas(), make_redis_quotas()
    user, limits = new_id(), UserLimits(3, 3, 1000)
    # Messages: two on one worker, one on the other, and the fourth is refused anywhere.
    assert await one.check_send(user, limits) is None
    assert await one.check_send(user, limits) is None
    assert await two.check_send(user, limits) is None
    assert (await two.check_send(user, limits)).kind == "messages_per_minute"
    # Tokens recorded by one worker count on the other.
    await one.record_tokens(user, limits, 1000)
    assert (await two.check_send(user, limits)).kind == "tokens_per_day"
    # Replies at once, and one per conversation.
    conversation = new_id()
    assert await one.acquire_reply(user, "a", limits, conversation) is None
    assert await one.acquire_reply(user, "b", limits) is None
    assert (await two.acquire_reply(user, "c", limits, conversation)).kind == "conversation_busy"
    assert await two.acquire_reply(user, "c", limits) is None
    assert (await two.acquire_reply(user, "d", limits)).kind == "concurrent_replies"
    await one.release_reply("a")
    assert await two.acquire_reply(user, "d", limits, conversation) is None
    # Failed sign-ins too.
    name = f"carol-{new_id()}"
    for quotas in (one, two, one):
        await quotas.signin_failed(name, "198.51.100.1")
    assert await two.signin_blocked(name, "198.51.100.2") is not None


async def _score(key: str, member: str) -> float | None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        return await client.zscore(key, member)
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_a_dead_workers_slots_free_themselves(make_redis_quotas: MakeQuotas):
    lease_s = 0.4
    crashed, alive = make_redis_quotas(lease_s=lease_s), make_redis_quotas(lease_s=lease_s)
    other = make_redis_quotas()
    user, limits = new_id(), UserLimits(0, 1, 0)
    dead_conversation, live_conversation = new_id(), new_id()
    assert await crashed.acquire_reply(user, "dead", limits, dead_conversation) is None
    assert await alive.acquire_reply(new_id(), "live", limits, live_conversation) is None
    # The worker dies: no release, no more lease refreshing.
    crashed.slots._refresher.cancel()
    crashed.slots._held.clear()
    assert await other.acquire_reply(user, "next", limits, dead_conversation) is not None
    live_key = alive._conversation_key(live_conversation)
    first_score = await _score(live_key, "live")

    async def freed() -> bool:
        refusal = await other.acquire_reply(user, "next", limits, dead_conversation)
        return refusal is None

    # Before the default lease (reply_lease_s, 5 s) could end: the short one was used.
    await eventually(freed, timeout=3, what="the dead worker's lease to end")
    # The live worker's reply, as old, kept its slot: its lease was refreshed meanwhile.
    assert (await other.acquire_reply(new_id(), "x", limits, live_conversation)) is not None
    assert (await _score(live_key, "live") or 0) > (first_score or 0)
    await alive.release_reply("live")
    assert await other.acquire_reply(new_id(), "x", limits, live_conversation) is None


async def test_redis_down_falls_back_to_this_worker(caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="ai_chat.limits")
    tries: list[bool] = []  # every failed Redis call is reported to the worker's monitor
    monkeypatch.setattr(redis_monitor, "report_failure", lambda: tries.append(True))
    # Nothing listens there.
    quotas = Quotas(load_settings(SIGNIN_ENV), redis_url="redis://127.0.0.1:1/0")
    quotas.backend.breaker.retry_s = 3600  # no second try within this test
    try:
        await _down(quotas, caplog)
    finally:
        await quotas.close()
    assert len(tries) == 1  # one failed try, then this worker's memory: no wait per call


async def _down(quotas: Quotas, caplog) -> None:
    user, limits = new_id(), UserLimits(2, 1, 100)
    assert await quotas.check_send(user, limits) is None
    assert await quotas.check_send(user, limits) is None
    assert (await quotas.check_send(user, limits)).kind == "messages_per_minute"
    assert await quotas.acquire_reply(user, "a", limits, new_id()) is None
    assert (await quotas.acquire_reply(user, "b", limits, new_id())).kind == "concurrent_replies"
    await quotas.release_reply("a")
    assert await quotas.acquire_reply(user, "b", limits, new_id()) is None
    await quotas.record_tokens(user, limits, 150)
    assert (await quotas.check_send(new_id(), limits)) is None
    assert await quotas.signin_blocked("dave", "192.0.2.1") is None
    warnings = [r for r in caplog.records if "Redis unreachable for limits" in r.message]
    assert len(warnings) == 1  # once per outage


@pytest.mark.redis
async def test_redis_back_after_an_outage_is_used_again(make_redis_quotas: MakeQuotas):
    quotas = make_redis_quotas()
    quotas.backend.breaker.retry_s = 0.05
    quotas.backend.breaker.failed("test", ConnectionError("simulated"))
    assert not quotas.backend.breaker.closed
    await wait_until(lambda: quotas.backend.breaker.closed, timeout=2, what="the retry time")
    user = new_id()
    await quotas.record_tokens(user, UserLimits(0, 0, 0), 7)
    assert await make_redis_quotas().tokens_used(user) == 7  # it went to Redis
