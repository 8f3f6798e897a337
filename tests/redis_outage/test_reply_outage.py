"""Redis dies mid-reply (a Redis server of the test's own, killed for real): the reply runs
to its end and is stored; with Redis back, the cross-worker Stop works again by itself."""

from __future__ import annotations

import asyncio

from ai_chat.generation import runtime
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.generation.redis_cancellation import RedisCancellation
from tests.conftest import wait_until
from tests.generation.helpers import make_job, start_turn, stored_messages, unique_tag


def _text_so_far(updates: list) -> str:
    snapshots = [u for u in updates if isinstance(u, LiveSnapshot)]
    return snapshots[-1].text if snapshots else ""


async def test_redis_killed_mid_reply_the_reply_ends_and_is_stored(app_env, sim, redis_server):
    app_env(redis_url=redis_server.url)
    service = runtime.get_service()
    job = make_job(f"outage [[sim tokens=60 tps=40 ttft=0 tag={unique_tag()}]]")
    task, updates = start_turn(job)
    await wait_until(lambda: _text_so_far(updates), what="the reply's first text")
    redis_server.kill()
    result = await asyncio.wait_for(task, 30)

    finished = result.finished
    assert finished.message.status == "complete", finished.message  # Claude's path has no Redis
    rows = await stored_messages(finished.message.conversation_id)
    assert [r.role for r in rows] == ["user", "assistant"]
    assert rows[-1].content == finished.message.content and rows[-1].content
    assert rows[-1].content.startswith(_text_so_far(updates))
    # Its end was counted in this worker's memory, and its reply slot freed.
    assert service.quotas.backend.breaker.down
    assert not service.quotas.slots.holds(job.generation_id)
    await service.cancellation.close()
    await service.quotas.close()


async def test_stop_from_another_worker_works_again_after_redis_returns(app_env, sim, redis_server):
    app_env(redis_url=redis_server.url)
    service = runtime.get_service()
    cancellation = service.cancellation
    assert isinstance(cancellation, RedisCancellation)
    other = RedisCancellation(redis_server.url)  # another worker's channel
    tag = unique_tag()
    job = make_job(f"long [[sim tokens=4000 tps=40 ttft=0 tag={tag}]]")
    task, updates = start_turn(job)
    await wait_until(lambda: cancellation.listening, what="the stop listener")
    await wait_until(lambda: _text_so_far(updates), what="the reply's first text")

    redis_server.kill()
    await wait_until(lambda: not cancellation.listening, what="the listener to notice")
    # Nothing can carry a stop now: said (False), not raised.
    assert await other.request_stop(job.generation_id) is False
    redis_server.start()
    # No new reply registers: the listener comes back by itself.
    await wait_until(lambda: cancellation.listening, timeout=15, what="the listener back")
    assert not task.done()
    await wait_until(lambda: other.breaker.closed, what="the other worker's retry time")
    assert await other.request_stop(job.generation_id) is True
    record = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.disconnected_at is not None, timeout=10
    )
    assert record.outcome == "disconnected"
    result = await asyncio.wait_for(task, 10)
    assert result.finished.message.status == "cancelled"
    rows = await stored_messages(result.finished.message.conversation_id)
    assert rows[-1].status == "cancelled" and rows[-1].content
    await other.close()
    await cancellation.close()
    await service.quotas.close()


async def test_a_reply_started_while_redis_is_down_runs_and_is_stored(app_env, sim, redis_server):
    app_env(redis_url=redis_server.url)
    service = runtime.get_service()
    redis_server.kill()
    job = make_job(f"no redis [[sim tokens=20 tps=100 ttft=0 tag={unique_tag()}]]")
    task, _ = start_turn(job)
    result = await asyncio.wait_for(task, 30)
    assert result.finished.message.status == "complete"
    rows = await stored_messages(result.finished.message.conversation_id)
    assert [(r.role, r.status) for r in rows] == [("user", "complete"), ("assistant", "complete")]
    assert rows[-1].content == result.finished.message.content
    assert service.cancellation.breaker.down and service.quotas.backend.breaker.down
    await service.cancellation.close()
    await service.quotas.close()


async def test_a_hung_redis_does_not_hold_a_reply(app_env, sim, redis_server):
    """Redis stops answering (SIGSTOP: connections open, no replies): every Redis user on
    the reply's path times out, and the reply runs and is stored."""
    app_env(redis_url=redis_server.url)
    service = runtime.get_service()
    warm = await asyncio.wait_for(start_turn(make_job("warm [[sim tokens=3 ttft=0]]"))[0], 30)
    assert warm.finished.message.status == "complete"  # connections to Redis are open now
    redis_server.pause()
    try:
        job = make_job(f"hung [[sim tokens=20 tps=100 ttft=0 tag={unique_tag()}]]")
        result = await asyncio.wait_for(start_turn(job)[0], 30)
        assert result.finished.message.status == "complete"
        rows = await stored_messages(result.finished.message.conversation_id)
        assert rows[-1].status == "complete" and rows[-1].content
        assert rows[-1].content == result.finished.message.content
    finally:
        redis_server.resume()
    await service.cancellation.close()
    await service.quotas.close()
