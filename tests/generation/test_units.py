"""Pure units: coalescing, the live buffer, local cancellation."""

from __future__ import annotations

import asyncio
import time

import pytest

from ai_chat.generation.cancellation import LocalCancellation, was_stopped_by_user
from ai_chat.generation.coalesce import PushCoalescer, PushPolicy
from ai_chat.generation.live_reply import LiveReplies, LiveReply, estimate_tokens
from ai_chat.llm.events import ReplyFinished, ReplyStarted, TextDelta, ThinkingDelta
from ai_chat.store.models import MessageStatus


def test_coalescer_first_push_immediate_then_spaced():
    c = PushCoalescer(PushPolicy(min_interval_s=0.05))
    assert c.wait_s(now=10.0) == 0.0
    c.pushed(10.0, version=1)
    assert c.wait_s(now=10.01) == pytest.approx(0.04)
    assert c.wait_s(now=10.046) == 0.0  # due within a tenth of the interval
    assert c.wait_s(now=10.06) == 0.0


def test_push_interval_widens_with_the_streams_of_the_worker():
    policy = PushPolicy(min_interval_s=0.05, max_interval_s=0.15, pushes_per_s=1000)
    assert policy.interval_s(1) == policy.interval_s(50) == 0.05
    assert policy.interval_s(100) == pytest.approx(0.1)  # 100 streams share 1,000 pushes/s
    assert policy.interval_s(1000) == 0.15  # never slower than the cap
    live = [1]
    c = PushCoalescer(policy, live_streams=lambda: live[0])
    c.pushed(10.0, version=1)
    assert c.wait_s(now=10.0) == pytest.approx(0.05)
    live[0] = 120
    assert c.wait_s(now=10.0) == pytest.approx(0.12)


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps on it."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_reads_are_immediate_until_the_first_token_then_just_before_each_push():
    clock = FakeTime()
    c = PushCoalescer(PushPolicy(min_interval_s=0.2), clock=clock, sleep=clock.sleep)
    await c.pace_read(started=False, pending=True)
    await c.pace_read(started=True, pending=True)  # nothing pushed yet: the first token at once
    assert clock.slept == []
    c.pushed(clock(), version=1)
    await c.pace_read(started=True, pending=False)  # the next batch: just before the push is due
    assert clock.slept == [pytest.approx(0.18)]  # the interval less its tenth of slack
    assert c.wait_s(clock()) == 0.0  # …so that push may go at once


async def test_with_a_batch_not_yet_pushed_the_reader_waits_for_the_push_after():
    clock = FakeTime()
    c = PushCoalescer(PushPolicy(min_interval_s=0.4), clock=clock, sleep=clock.sleep)
    c.pushed(clock() - 0.4, version=1)  # a push is due now and will carry the read batch
    await c.pace_read(started=True, pending=True)
    assert clock.slept == [pytest.approx(0.36)]  # read again just before the following push
    await c.pace_read(started=True, pending=False)  # nothing waiting: read at once for this one
    assert clock.slept == [pytest.approx(0.36)]


def test_the_coalescer_runs_on_the_monotonic_clock_by_default():
    c = PushCoalescer(PushPolicy())
    assert c.clock is time.monotonic and c.sleep is asyncio.sleep


def _reply() -> LiveReply:
    return LiveReply(generation_id="g", conversation_id="c", message_id="m", model="claude-x")


def test_live_reply_state_transitions_and_text():
    reply = _reply()
    assert reply.status is MessageStatus.THINKING
    reply.apply(ReplyStarted(request_id="r", model="claude-x", input_tokens=12))
    reply.apply(TextDelta("Hel", 0))
    assert reply.status is MessageStatus.STREAMING and reply.first_token_at is not None
    reply.apply(TextDelta("lo", 1))
    assert reply.text == "Hello"
    reply.apply(TextDelta("!", 2))
    reply.apply(ReplyFinished(stop_reason="end_turn", output_tokens=3))
    reply.finish(MessageStatus.COMPLETE)
    assert reply.text == "Hello!" and reply.output_tokens == 3 and reply.usage_final
    assert reply.input_tokens == 12


def test_live_reply_rejects_gaps():
    reply = _reply()
    reply.apply(TextDelta("a", 0))
    with pytest.raises(RuntimeError):
        reply.apply(TextDelta("c", 2))


def test_live_reply_counts_joined_deltas():
    reply = _reply()
    reply.apply(TextDelta("Hello", 0, count=3))  # deltas 0, 1 and 2 read together
    reply.apply(TextDelta("!", 3))
    assert reply.text == "Hello!" and reply.deltas == 4 and reply.output_tokens == 4
    with pytest.raises(RuntimeError):
        reply.apply(TextDelta("?", 3))  # a duplicate of the last


def test_live_text_is_cleaned_and_a_pair_split_across_deltas_is_kept_whole():
    # A lone surrogate in a push would break the tab's socket; JSON escapes can carry one.
    reply = _reply()
    reply.apply(TextDelta("a\ud800b\x00c \ud83d", 0))  # ends with a pair's first half
    assert reply.text == "a\ufffdbc "  # the half waits for the next delta
    reply.apply(TextDelta("\ude00 d", 1))
    assert reply.text == "a\ufffdbc \U0001f600 d"
    reply.apply(TextDelta("\udbff", 2))  # a first half the reply ends on
    reply.finish(MessageStatus.COMPLETE)
    assert reply.text == "a\ufffdbc \U0001f600 d\ufffd"
    reply.apply(ThinkingDelta("t\udc00"))
    assert reply.thinking == "t\ufffd"


def test_cancelled_reply_gets_an_estimate():
    reply = _reply()
    reply.apply(TextDelta("x" * 40, 0))
    reply.finish(MessageStatus.CANCELLED)
    assert not reply.usage_final and reply.output_tokens == estimate_tokens("x" * 40) == 10


async def test_wait_for_change_wakes_on_change_and_times_out():
    reply = _reply()
    assert not await reply.wait_for_change(since=reply.version, timeout=0.01)
    since = reply.version
    waiter = asyncio.create_task(reply.wait_for_change(since=since, timeout=5))
    await asyncio.sleep(0)
    reply.apply(TextDelta("x", 0))
    assert await asyncio.wait_for(waiter, 1)


def test_registry_finds_by_conversation():
    registry = LiveReplies()
    registry.add(_reply())
    assert registry.for_conversation("c").generation_id == "g"
    registry.remove("g")
    assert registry.for_conversation("c") is None and len(registry) == 0


async def test_local_cancellation_cancels_with_the_stop_reason():
    cancellation = LocalCancellation()
    caught: list[bool] = []

    async def work() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError as exc:
            caught.append(was_stopped_by_user(exc))
            raise

    task = asyncio.create_task(work())
    await cancellation.register("g1", task)
    await asyncio.sleep(0)
    assert cancellation.is_running("g1")
    assert await cancellation.request_stop("g1")
    with pytest.raises(asyncio.CancelledError):
        await task
    assert caught == [True]
    assert not await cancellation.request_stop("g1")  # already done
    cancellation.unregister("g1")


async def test_stop_before_register_cancels_on_register():
    cancellation = LocalCancellation()
    assert await cancellation.request_stop("early")
    task = asyncio.create_task(asyncio.sleep(30))
    await cancellation.register("early", task)
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_stopping_a_conversation_stops_its_generations_once_and_no_others():
    cancellation = LocalCancellation()
    stops: list[str] = []

    async def work(name: str) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError as exc:
            stops.append(name if was_stopped_by_user(exc) else "other reason")
            # A reply's end still awaits (its save): a second cancel would land here.
            await asyncio.sleep(0.01)

    tasks = {name: asyncio.create_task(work(name)) for name in ("a1", "a2", "b1")}
    await cancellation.register("a1", tasks["a1"], "conv-a")
    await cancellation.register("a2", tasks["a2"], "conv-a")
    await cancellation.register("b1", tasks["b1"], "conv-b")
    await asyncio.sleep(0)
    assert await cancellation.request_stop("a1")  # its own tab's Stop came first
    await asyncio.sleep(0)  # a1 is handling it (as a stop published back by Redis finds it)
    await cancellation.stop_conversation("conv-a")
    await asyncio.gather(tasks["a1"], tasks["a2"])  # each ended after one cancellation
    assert sorted(stops) == ["a1", "a2"]
    assert cancellation.is_running("b1")
    tasks["b1"].cancel()
