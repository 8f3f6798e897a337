"""Stop closes the upstream HTTP request at once, keeps the partial text, stores `cancelled`."""

from __future__ import annotations

import asyncio
import time

from ai_chat.generation import runtime
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.simulator.script import reply_text
from tests.conftest import wait_until
from tests.generation.helpers import make_job, start_turn, stored_messages, unique_tag

# Behaviour, not a timing target: the upstream request closes at the stop, not at the next
# chunk. Asserted by order: after the stop, and before the simulator's next scheduled moment
# (the end of a SILENCE_S silence; the last of thousands of tokens). How soon after the stop
# is measured, with percentiles, by benchmarks/core_latency.py.
SILENCE_S = 20


async def _stop(sim, job, tag) -> tuple[float, object]:
    """Stops the turn; returns when (wall clock, as the simulator records) and the record
    once the simulator saw the client leave."""
    service = runtime.get_service()
    stop_at = time.time()
    assert await service.cancellation.request_stop(job.generation_id)
    record = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.disconnected_at is not None, timeout=SILENCE_S / 2
    )
    assert stop_at <= record.disconnected_at
    return stop_at, record


async def test_stop_mid_stream_closes_upstream_and_keeps_partial_text(app_env, sim):
    tag = unique_tag()
    job = make_job(f"Tell me a long story [[sim tokens=3000 tps=100 ttft=0 tag={tag}]]")
    task, updates = start_turn(job)
    await wait_until(
        lambda: any(isinstance(u, LiveSnapshot) and len(u.text) > 40 for u in updates),
        what="some streamed text",
    )
    _, record = await _stop(sim, job, tag)
    result = await task

    assert record.outcome == "disconnected" and record.tokens_sent < 3000
    final = result.finished.message
    assert final.status == "cancelled"
    assert 40 < len(final.content) < len(reply_text("Tell me a long story", 3000))
    assert reply_text("Tell me a long story", 3000).startswith(final.content)
    assert final.output_tokens_estimated and final.output_tokens > 0
    rows = await stored_messages(result.started.conversation_id)
    assert rows[-1].status == "cancelled" and rows[-1].content == final.content


async def test_stop_while_claude_is_silent_before_first_token(app_env, sim):
    tag = unique_tag()
    job = make_job(f"Think hard [[sim tokens=50 ttft={SILENCE_S} ping=0 tag={tag}]]")
    task, _ = start_turn(job)
    await sim.recorder.wait_for_async(lambda r: r.tag == tag, timeout=5)
    _, record = await _stop(sim, job, tag)
    result = await task

    assert record.first_token_at is None
    assert record.disconnected_at < record.arrived_at + SILENCE_S  # not at the silence's end
    final = result.finished.message
    assert final.status == "cancelled" and final.content == ""
    rows = await stored_messages(result.started.conversation_id)
    assert [r.status for r in rows] == ["complete", "cancelled"]


async def test_stop_before_the_stream_task_exists_still_stops(app_env, sim):
    """A stop that lands while the user turn is being saved is not lost."""
    tag = unique_tag()
    job = make_job(f"Quick stop [[sim tokens=500 tps=50 ttft=0 tag={tag}]]")
    assert await runtime.get_service().cancellation.request_stop(job.generation_id)
    task, _ = start_turn(job)
    result = await task
    assert result.finished.message.status == "cancelled"
    assert len(result.finished.message.content) < 200


async def test_stop_twice_and_stop_after_the_end_are_harmless(app_env):
    job = make_job("short [[sim tokens=10 tps=1000 ttft=0]]")
    task, _ = start_turn(job)
    result = await task
    cancellation = runtime.get_service().cancellation
    assert result.finished.message.status == "complete"
    # the task is gone: nothing to stop, nothing breaks
    await cancellation.request_stop(job.generation_id)
    await cancellation.request_stop(job.generation_id)
    rows = await stored_messages(result.started.conversation_id)
    assert [r.status for r in rows] == ["complete", "complete"]


async def test_next_turn_after_a_stop_works(app_env, sim):
    tag = unique_tag()
    job = make_job(f"first [[sim tokens=2000 tps=100 ttft=0 tag={tag}]]")
    task, updates = start_turn(job)
    await wait_until(lambda: any(isinstance(u, LiveSnapshot) and u.text for u in updates))
    await runtime.get_service().cancellation.request_stop(job.generation_id)
    first = await task
    cid = first.started.conversation_id
    second_task, _ = start_turn(make_job("second [[sim tokens=10 tps=1000 ttft=0]]", cid))
    second = await asyncio.wait_for(second_task, 10)
    assert second.finished.message.status == "complete"
    rows = await stored_messages(cid)
    assert [(r.role, r.status) for r in rows] == [
        ("user", "complete"),
        ("assistant", "cancelled"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
