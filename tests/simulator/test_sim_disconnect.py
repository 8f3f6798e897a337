"""The server notices a client going away at once, even while it has nothing to send."""

from __future__ import annotations

import asyncio
import time

import anthropic
import pytest

from ai_chat.simulator import SimulatorServer

MODEL = "claude-sim-test"
# Each scenario's next scheduled moment (the end of a silence, the last token) lies far past
# NOTICED_WITHIN_S: a record that finishes within it was ended by the disconnect, whatever
# the host's speed. How fast a disconnect is noticed is measured by the benchmarks.
SILENCE_S = 60
NOTICED_WITHIN_S = 20.0


async def _consume(
    client: anthropic.AsyncAnthropic, content: str, opened: asyncio.Event, max_tokens: int = 1000
) -> None:
    async with client.messages.stream(
        model=MODEL, max_tokens=max_tokens, messages=[{"role": "user", "content": content}]
    ) as stream:
        opened.set()  # headers are in: the server is now in its reply
        async for _ in stream.text_stream:
            pass


async def _cancel_and_measure(task: asyncio.Task[None]) -> float:
    cancelled_at = time.time()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return cancelled_at


@pytest.mark.asyncio
async def test_cancel_during_silent_first_token_wait(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    opened = asyncio.Event()
    content = f"Hi [[sim ttft={SILENCE_S} ping=0 tag={tag}]]"
    task = asyncio.create_task(_consume(client, content, opened))
    await asyncio.wait_for(opened.wait(), 5)  # headers sent: the server is in its silence
    cancelled_at = await _cancel_and_measure(task)

    done = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.finished, NOTICED_WITHIN_S
    )
    assert done.outcome == "disconnected" and done.tokens_sent == 0
    assert done.disconnected_at is not None and done.first_token_at is None
    assert cancelled_at <= done.disconnected_at < done.arrived_at + SILENCE_S


@pytest.mark.asyncio
async def test_cancel_mid_stream_stops_generation(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    opened = asyncio.Event()
    tokens = 100 * SILENCE_S  # at 100 tokens/s: the last one is due SILENCE_S after the first
    content = f"Hi [[sim tps=100 tokens={tokens} ttft=0 tag={tag}]]"
    task = asyncio.create_task(_consume(client, content, opened, max_tokens=tokens * 2))
    await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.tokens_sent >= 10, 5)
    cancelled_at = await _cancel_and_measure(task)

    done = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.finished, NOTICED_WITHIN_S
    )
    assert done.outcome == "disconnected"
    assert done.disconnected_at is not None and cancelled_at <= done.disconnected_at
    stopped_at = done.tokens_sent
    assert stopped_at < tokens  # generation stopped, not run to the end
    # Finished means the reply's task is over: nothing can add a token any more.
    assert sim.recorder.find(tag)[0].tokens_sent == stopped_at


@pytest.mark.asyncio
async def test_leaving_the_stream_block_disconnects(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    tokens = 100 * SILENCE_S
    content = f"Hi [[sim tps=100 tokens={tokens} ttft=0 tag={tag}]]"
    async with client.messages.stream(
        model=MODEL, max_tokens=tokens * 2, messages=[{"role": "user", "content": content}]
    ) as stream:
        async for _ in stream.text_stream:
            break
        left_at = time.time()
    done = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.finished, NOTICED_WITHIN_S
    )
    assert done.outcome == "disconnected" and done.disconnected_at is not None
    assert left_at <= done.disconnected_at
    assert done.tokens_sent < tokens


@pytest.mark.asyncio
async def test_cancel_during_silent_stall(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    opened = asyncio.Event()
    task = asyncio.create_task(_consume(client, f"Hi [[sim stall=3 ping=0 tag={tag}]]", opened))
    # A stall lasts until the client leaves: only noticing the disconnect can end it.
    await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.outcome == "stalled", 5)
    cancelled_at = await _cancel_and_measure(task)

    done = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.finished, NOTICED_WITHIN_S
    )
    assert done.outcome == "disconnected" and done.tokens_sent == 3
    assert done.disconnected_at is not None and cancelled_at <= done.disconnected_at
