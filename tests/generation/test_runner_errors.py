"""Every failure ends as a stored `failed` turn with a clear message; the next turn works."""

from __future__ import annotations

import asyncio

import pytest

from tests.generation.helpers import make_job, run_turn, stored_messages, unique_tag


@pytest.mark.parametrize(
    ("directive", "kind_words"),
    [
        ("error=401", "rejected the API key"),
        ("error=403", "rejected the API key"),
        ("error=404", "doesn't know the model"),
        ("error=413", "too large"),
        ("error=400", "rejected the request"),
        ("error=429 retry_after=30", "Rate limited by Claude. Try again in 30 s"),
        ("error=500", "unavailable (500)"),
        ("error=529 retry_after=7", "overloaded right now. Try again in 7 s"),
        ("midstream_error=overloaded_error at=15 tps=500 ttft=0", "mid-reply (overloaded_error"),
        ("drop=15 tps=500 ttft=0", "connection to Claude"),
    ],
)
async def test_failure_is_stored_with_a_clear_message(app_env, sim, directive, kind_words):
    tag = unique_tag()
    result = await run_turn(make_job(f"hi [[sim tokens=200 {directive} tag={tag}]]"))
    final = result.finished.message
    assert final.status == "failed"
    assert kind_words in (final.error or ""), final.error
    rows = await stored_messages(result.started.conversation_id)
    assert rows[-1].status == "failed" and rows[-1].error == final.error
    if "at=15" in directive or "drop=15" in directive:
        assert len(final.content) > 0, "partial text before the failure is kept"
        assert rows[-1].content == final.content

    # the conversation stays usable
    again = await run_turn(
        make_job("again [[sim tokens=5 tps=1000 ttft=0]]", result.started.conversation_id)
    )
    assert again.finished.message.status == "complete"


async def test_stall_is_detected_by_the_read_timeout(app_env, sim):
    app_env(stall_timeout_s="0.5")
    result = await run_turn(make_job("hi [[sim tokens=100 stall=10 ping=0 tps=500 ttft=0]]"))
    final = result.finished.message
    assert final.status == "failed"
    assert "sent nothing for 0.5 s" in final.error
    assert len(final.content) > 0


async def test_overall_deadline_stops_a_slow_reply(app_env, sim):
    app_env(reply_deadline_s="0.8")
    tag = unique_tag()
    result = await run_turn(make_job(f"hi [[sim tokens=1000 tps=50 ttft=0 tag={tag}]]"))
    final = result.finished.message
    assert final.status == "failed" and "took too long" in final.error
    assert 0 < len(final.content)
    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished, timeout=5)
    assert record.outcome == "disconnected"  # the deadline closed the upstream request


async def test_retries_before_first_token_then_gives_up(app_env, sim):
    app_env(max_retries="2", max_retry_wait_s="5")
    tag = unique_tag()
    result = await run_turn(make_job(f"hi [[sim error=529 retry_after=0.1 tag={tag}]]"))
    assert result.finished.message.status == "failed"
    assert len(sim.recorder.find(tag)) == 3  # 1 try + 2 retries


async def test_retry_after_longer_than_the_cap_fails_at_once(app_env, sim):
    app_env(max_retries="2", max_retry_wait_s="2")
    tag = unique_tag()
    # The turn ending at all (with an hour's retry-after) says it did not sleep on it.
    result = await asyncio.wait_for(
        run_turn(make_job(f"hi [[sim error=429 retry_after=3600 tag={tag}]]")), 60
    )
    assert "Try again in 3600 s" in result.finished.message.error
    assert len(sim.recorder.find(tag)) == 1


async def test_a_dropped_stream_is_not_retried_after_tokens(app_env, sim):
    app_env(max_retries="2")
    tag = unique_tag()
    result = await run_turn(make_job(f"hi [[sim tokens=200 drop=10 tps=500 ttft=0 tag={tag}]]"))
    assert result.finished.message.status == "failed"
    assert len(sim.recorder.find(tag)) == 1  # no replay of already-shown text
