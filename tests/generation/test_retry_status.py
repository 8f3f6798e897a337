"""An upstream retry travels to the tab: the live snapshots carry the attempt and the max
("Retrying (n/m)…" in the live bubble) while the stream is being opened again."""

from __future__ import annotations

from ai_chat.generation.live_reply import LiveReply, LiveSnapshot
from ai_chat.llm.events import ReplyRetrying, ReplyStarted
from ai_chat.state.live_vars import retrying_label
from tests.generation.helpers import make_job, run_turn, unique_tag


async def test_snapshots_say_which_retry_is_under_way(app_env, sim):
    app_env(max_retries="2", max_retry_wait_s="5")
    tag = unique_tag()
    # Waits long enough (1.2 s) for the silent tick (1 s) to push during each of them.
    result = await run_turn(make_job(f"hi [[sim error=529 retry_after=1.2 tag={tag}]]"))
    assert result.finished.message.status == "failed"
    retries = [(s.retry_attempt, s.retry_max) for s in result.snapshots if s.retry_attempt]
    assert (1, 2) in retries and (2, 2) in retries, result.snapshots
    assert retries == sorted(retries)  # attempts only move forward


async def test_a_reply_that_opens_clears_the_retry():
    reply = LiveReply("g", "c", "m", "model")
    reply.apply(ReplyRetrying(1, 3, 0.5, "overloaded"))
    busy = reply.snapshot()
    assert (busy.retry_attempt, busy.retry_max) == (1, 3)
    quiet = LiveSnapshot("g", "", busy.status, 0, 0.0)
    assert not busy.looks_like(quiet), "a retry is a change worth a push"
    reply.apply(ReplyStarted("req", "model", 10))
    assert reply.snapshot().retry_attempt == 0


def test_the_label_names_the_attempt_and_the_max():
    assert retrying_label(1, 2) == "Claude is busy. Retrying (1/2)…"
