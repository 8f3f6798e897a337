"""The server notices a client going away at once, even while it has nothing to send."""

from __future__ import annotations

import asyncio
import time

import anthropic
import pytest

from ai_chat.simulator import SimulatorServer

MODEL = "claude-sim-test"
# Noticed at the disconnect, not at the end of a 5 s silence; precise figures are benchmarks'.
MAX_LATENCY_S = 1.0


async def _consume(client: anthropic.AsyncAnthropic, content: str, opened: asyncio.Event) -> None:
    async with client.messages.stream(
        model=MODEL, max_tokens=1000, messages=[{"role": "user", "content": content}]
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
    task = asyncio.create_task(_consume(client, f"Hi [[sim ttft=5 ping=0 tag={tag}]]", opened))
    await asyncio.wait_for(opened.wait(), 5)
    await asyncio.sleep(0.2)  # deliberately deep inside the 5 s of silence
    cancelled_at = await _cancel_and_measure(task)

    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished, 2)
    assert record.outcome == "disconnected" and record.tokens_sent == 0
    assert record.disconnected_at is not None and record.first_token_at is None
    latency = record.disconnected_at - cancelled_at
    assert 0 <= latency < MAX_LATENCY_S, latency


@pytest.mark.asyncio
async def test_cancel_mid_stream_stops_generation(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    opened = asyncio.Event()
    content = f"Hi [[sim tps=100 tokens=400 ttft=0 tag={tag}]]"
    task = asyncio.create_task(_consume(client, content, opened))
    await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.tokens_sent >= 10, 5)
    sent_at_cancel = sim.recorder.find(tag)[0].tokens_sent
    cancelled_at = await _cancel_and_measure(task)

    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished, 2)
    assert record.outcome == "disconnected"
    assert record.disconnected_at is not None
    assert 0 <= record.disconnected_at - cancelled_at < MAX_LATENCY_S
    assert record.tokens_sent <= sent_at_cancel + 5  # generation stopped, not run to 400
    await asyncio.sleep(0.1)  # and it stays stopped
    assert record.tokens_sent <= sent_at_cancel + 5


@pytest.mark.asyncio
async def test_leaving_the_stream_block_disconnects(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    content = f"Hi [[sim tps=200 tokens=400 ttft=0 tag={tag}]]"
    async with client.messages.stream(
        model=MODEL, max_tokens=1000, messages=[{"role": "user", "content": content}]
    ) as stream:
        async for _ in stream.text_stream:
            break
        left_at = time.time()
    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished, 2)
    assert record.outcome == "disconnected" and record.disconnected_at is not None
    assert record.disconnected_at - left_at < MAX_LATENCY_S
    assert record.tokens_sent < 400


@pytest.mark.asyncio
async def test_cancel_during_silent_stall(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    opened = asyncio.Event()
    task = asyncio.create_task(_consume(client, f"Hi [[sim stall=3 ping=0 tag={tag}]]", opened))
    await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.outcome == "stalled", 5)
    await asyncio.sleep(0.1)
    cancelled_at = await _cancel_and_measure(task)

    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished, 2)
    assert record.outcome == "disconnected" and record.tokens_sent == 3
    assert record.disconnected_at is not None
    assert 0 <= record.disconnected_at - cancelled_at < MAX_LATENCY_S
