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
# chunk (the silent case waits 20 s for one). The 50 ms target is measured, with percentiles,
# by benchmarks/core_latency.py (~2 ms); a loose bound keeps a loaded CI machine green.
STOP_BOUND_S = 1.0


async def _stop_and_measure(sim, job, tag) -> tuple[float, object]:
    service = runtime.get_service()
    stop_at = time.time()
    assert await service.cancellation.request_stop(job.generation_id)
    record = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.disconnected_at is not None, timeout=5
    )
    return record.disconnected_at - stop_at, record


async def test_stop_mid_stream_closes_upstream_and_keeps_partial_text(app_env, sim):
    tag = unique_tag()
    job = make_job(f"Tell me a long story [[sim tokens=3000 tps=100 ttft=0 tag={tag}]]")
    task, updates = start_turn(job)
    await wait_until(
        lambda: any(isinstance(u, LiveSnapshot) and len(u.text) > 40 for u in updates),
        what="some streamed text",
    )
    latency, record = await _stop_and_measure(sim, job, tag)
    result = await task

    assert latency < STOP_BOUND_S, f"upstream closed {latency * 1000:.1f} ms after stop"
    assert record.outcome == "disconnected"
    final = result.finished.message
    assert final.status == "cancelled"
    assert 40 < len(final.content) < len(reply_text("Tell me a long story", 3000))
    assert reply_text("Tell me a long story", 3000).startswith(final.content)
    assert final.output_tokens_estimated and final.output_tokens > 0
    rows = await stored_messages(result.started.conversation_id)
    assert rows[-1].status == "cancelled" and rows[-1].content == final.content


async def test_stop_while_claude_is_silent_before_first_token(app_env, sim):
    tag = unique_tag()
    job = make_job(f"Think hard [[sim tokens=50 ttft=20 ping=0 tag={tag}]]")
    task, _ = start_turn(job)
    await sim.recorder.wait_for_async(lambda r: r.tag == tag, timeout=5)
    latency, record = await _stop_and_measure(sim, job, tag)
    result = await task

    assert latency < STOP_BOUND_S, f"upstream closed {latency * 1000:.1f} ms after stop"
    assert record.first_token_at is None
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
