"""Nothing lost: a reply's row exists from its turn's start and is checkpointed while it
streams (in the database, or in Redis), the turn ends and is stored even when whoever
iterated `run()` went away, and a reply whose worker is gone is recovered as interrupted
with its last checkpoint, by a conversation's opening or by the sweeper."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from ai_chat.generation import runtime
from ai_chat.generation.checkpoints_redis import RedisCheckpoints
from ai_chat.generation.job import TurnStarted
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.generation.recovery import INTERRUPTED
from ai_chat.simulator.script import reply_text
from ai_chat.store import inflight, turns
from ai_chat.store.db import run_write
from ai_chat.store.models import MessageRow, utcnow
from tests.conftest import eventually, redis_or_missing, wait_until
from tests.generation.helpers import OWNER, make_job, start_turn, stored_messages, worker_apart

SLOW = "[[sim tokens=120 tps=40 ttft=0]]"


@pytest.fixture(params=["db", "redis"])
async def durable(request, app_env, sim, db_url) -> AsyncIterator[Callable[..., None]]:
    """Checkpoints every 0.1 s, to the database or to Redis, on SQLite and PostgreSQL."""
    async with _configured(app_env, db_url, redis=request.param == "redis") as configure:
        yield configure


@pytest.fixture
async def redis_durable(app_env, sim, db_url) -> AsyncIterator[Callable[..., None]]:
    async with _configured(app_env, db_url, redis=True) as configure:
        yield configure


@contextlib.asynccontextmanager
async def _configured(app_env, db_url: str, redis: bool) -> AsyncIterator[Callable[..., None]]:
    shared = {"redis_url": await redis_or_missing()} if redis else {}

    def configure(**settings: str) -> None:
        app_env(db_url=db_url, checkpoint_interval_s="0.1", **shared, **settings)

    configure()
    yield configure
    service = runtime.get_service()
    await service.durability.checkpointer.stop()
    if shared:
        await service.cancellation.close()
        await service.quotas.close()
        assert isinstance(service.durability.checkpointer.store, RedisCheckpoints)
        await service.durability.checkpointer.store.close()


def _redis(service) -> RedisCheckpoints | None:
    store = service.durability.checkpointer.store
    return store if isinstance(store, RedisCheckpoints) else None


async def _row(conversation_id: str, message_id: str):
    return next(m for m in await stored_messages(conversation_id) if m.id == message_id)


async def test_the_reply_is_in_the_database_from_the_start_and_checkpointed(durable):
    service = runtime.get_service()
    job = make_job(f"Tell me {SLOW}")
    task, updates = start_turn(job)
    await wait_until(lambda: any(isinstance(u, TurnStarted) for u in updates))
    started = next(u for u in updates if isinstance(u, TurnStarted))
    cid, mid = started.conversation_id, job.assistant_message_id
    row = await _row(cid, mid)
    assert row.seq == started.user_message.seq + 1 and row.lease_until is not None
    assert row.status in ("thinking", "streaming")
    full = reply_text("Tell me", 120)

    async def checkpointed() -> bool:
        if (redis := _redis(service)) is not None:
            saved = (await redis.read([mid])).get(mid)
            text = saved.text if saved else ""
        else:
            text = (await _row(cid, mid)).content
        return len(text) > 20 and full.startswith(text)

    await eventually(checkpointed, what="a checkpoint with some text")
    assert not task.done()  # checkpointed while it streams
    assert await service.reply_alive(job.generation_id, mid)
    assert await worker_apart().reply_alive(job.generation_id, mid)  # another worker: lease
    result = await task
    row = await _row(cid, mid)
    assert (row.status, row.content, row.lease_until) == ("complete", full, None)
    assert result.finished.message.content == full
    assert not await worker_apart().reply_alive(job.generation_id, mid)  # it has ended
    if (redis := _redis(service)) is not None:
        await eventually(lambda: _forgotten(redis, mid), what="its Redis checkpoint dropped")


async def _forgotten(redis: RedisCheckpoints, message_id: str) -> bool:
    return message_id not in await redis.read([message_id])


async def test_the_turn_ends_and_is_stored_when_its_consumer_goes_away(durable):
    job = make_job(f"Go on {SLOW.replace('120', '60')}")
    updates = runtime.get_service().run(job)
    async for update in updates:
        if isinstance(update, LiveSnapshot) and update.text:
            break  # the tab's task dies here (socket gone, Redis down)
    await updates.aclose()

    async def stored() -> bool:
        row = await _stored_reply(job.assistant_message_id)
        return row is not None and row.status == "complete"

    await eventually(stored, what="the reply stored after its consumer left")
    row = await _stored_reply(job.assistant_message_id)
    assert row is not None and row.content == reply_text("Go on", 60)


async def _stored_reply(message_id: str):
    from sqlmodel import select

    from ai_chat.store.db import read_scope
    from ai_chat.store.models import Message

    async with read_scope() as session:
        return (await session.exec(select(Message).where(Message.id == message_id))).first()


async def _dead_reply(text: str, redis_text: str | None = None) -> tuple[str, MessageRow]:
    """A turn whose worker died: its row's lease has passed, its last checkpoint kept."""
    service = runtime.get_service()
    reply = MessageRow("", -1, "assistant", status="thinking")
    reply.lease_until = utcnow() - timedelta(seconds=1)
    conv, _, _ = await run_write(turns.start_turn_sync, OWNER, None, "q", None, None, None, reply)
    old = utcnow() - timedelta(seconds=1)
    checkpoint = inflight.Checkpoint(reply.id, text, "", "streaming", 2)
    await run_write(inflight.checkpoint_sync, [checkpoint], [], old)
    if redis_text is not None and (redis := _redis(service)) is not None:
        await redis.write([inflight.Checkpoint(reply.id, redis_text, "", "streaming", 3)], [], 5)
    return conv.id, reply


async def test_opening_a_conversation_recovers_a_reply_whose_worker_is_gone(durable):
    service = runtime.get_service()
    cid, reply = await _dead_reply("Partial text")
    assert not await service.reply_alive("gone", reply.id)
    assert await service.recover_conversation("someone else", cid) == 0  # not theirs
    assert await service.recover_conversation(OWNER, cid) == 1
    row = await _row(cid, reply.id)
    assert (row.status, row.content, row.error) == ("interrupted", "Partial text", INTERRUPTED)
    assert row.output_tokens_estimated and row.output_tokens >= 3
    assert await service.recover_conversation(OWNER, cid) == 0  # once


@pytest.mark.redis
async def test_a_redis_checkpoint_wins_and_a_fresh_beat_means_alive(redis_durable):
    service = runtime.get_service()
    cid, reply = await _dead_reply("Old", redis_text="Newer text from Redis")
    # Its worker still beats in Redis (its database lease is the first one only).
    assert await service.reply_alive("elsewhere", reply.id)
    assert await service.recover_conversation(OWNER, cid) == 0
    saved = await service.durability.recovery.checkpointed(reply.id)
    assert saved is not None and saved.text == "Newer text from Redis"
    redis = _redis(service)
    assert redis is not None
    await redis._redis.hset("ai_chat:reply:" + reply.id, "beat", 0)  # it stopped beating
    assert not await service.reply_alive("elsewhere", reply.id)
    assert await service.recover_conversation(OWNER, cid) == 1
    row = await _row(cid, reply.id)
    assert (row.status, row.content) == ("interrupted", "Newer text from Redis")
    assert await _forgotten(redis, reply.id)


async def test_the_sweeper_recovers_every_conversation_at_start_and_periodically(durable):
    durable(sweep_interval_s="0.1")
    service = runtime.get_service()
    first, one = await _dead_reply("one")
    service.durability.start()
    try:
        await eventually(lambda: _status_is(first, one.id, "interrupted"), what="the startup sweep")
        second, two = await _dead_reply("two")
        await eventually(lambda: _status_is(second, two.id, "interrupted"), what="a periodic sweep")
        # This worker's count (the status is visible a moment before the write returns).
        await wait_until(lambda: service.durability.recovery.recovered == 2, what="counted")
    finally:
        await service.durability.recovery.stop()


async def _status_is(conversation_id: str, message_id: str, status: str) -> bool:
    return (await _row(conversation_id, message_id)).status == status


@pytest.mark.redis
async def test_with_redis_one_worker_sweeps_per_interval():
    url = await redis_or_missing()
    scope = f"sqlite:///sweep-{utcnow().timestamp()}.db"
    one, two = RedisCheckpoints(url, scope=scope), RedisCheckpoints(url, scope=scope)
    elsewhere = RedisCheckpoints(url, scope=scope + "-other")  # another app, same Redis
    try:
        assert await one.claim_sweep(60)
        assert not await two.claim_sweep(60)
        assert await elsewhere.claim_sweep(60)
    finally:
        for store in (one, two, elsewhere):
            await store._redis.delete(store._sweep_key)
            await store.close()
