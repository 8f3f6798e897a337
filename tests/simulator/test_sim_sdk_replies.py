"""Successful replies through the real anthropic SDK over real HTTP."""

from __future__ import annotations

import math

import anthropic
import httpx2
import pytest

from ai_chat.simulator import SimulatorServer, reply_text, split_tokens

MODEL = "claude-sim-test"


@pytest.mark.asyncio
async def test_streamed_reply_matches_script(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    prompt = "What is a monad?"
    chunks: list[str] = []
    async with client.messages.stream(
        model=MODEL,
        max_tokens=1000,
        messages=[{"role": "user", "content": f"{prompt} [[sim tokens=120 tag={tag}]]"}],
    ) as stream:
        async for text in stream.text_stream:
            chunks.append(text)
        final = await stream.get_final_message()
    assert "".join(chunks) == reply_text(prompt, 120)
    assert len(chunks) == 120  # chunk=1: one delta per token
    assert final.content[0].type == "text" and final.content[0].text == reply_text(prompt, 120)
    assert final.usage.output_tokens == 120
    assert final.stop_reason == "end_turn" and final.stop_sequence is None
    assert final.model == MODEL and final.id.startswith("msg_sim_")
    assert final.usage.input_tokens == math.ceil(len(f"{prompt} [[sim tokens=120 tag={tag}]]") / 4)
    assert stream.response.headers["request-id"].startswith("req_sim_")

    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished)
    assert record.outcome == "complete" and record.tokens_sent == 120
    assert record.model == MODEL and record.stream is True and record.status == 200
    assert record.messages[0]["content"].startswith(prompt)
    assert record.arrived_at <= record.first_token_at <= record.completed_at  # type: ignore[operator]
    assert record.disconnected_at is None


@pytest.mark.asyncio
async def test_max_tokens_cuts_the_reply(client: anthropic.AsyncAnthropic) -> None:
    async with client.messages.stream(
        model=MODEL,
        max_tokens=25,
        messages=[{"role": "user", "content": "Hi [[sim tokens=100 chunk=4]]"}],
    ) as stream:
        final = await stream.get_final_message()
    assert final.content[0].text == reply_text("Hi", 25)  # type: ignore[union-attr]
    assert final.usage.output_tokens == 25
    assert final.stop_reason == "max_tokens"


@pytest.mark.asyncio
async def test_chunk_option_groups_tokens(client: anthropic.AsyncAnthropic) -> None:
    deltas: list[str] = []
    async with client.messages.stream(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "Hi [[sim tokens=10 chunk=4]]"}],
    ) as stream:
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                deltas.append(event.delta.text)
    assert [len(split_tokens(d)) for d in deltas] == [4, 4, 2]
    assert "".join(deltas) == reply_text("Hi", 10)


@pytest.mark.asyncio
async def test_non_stream_create_and_system_and_blocks(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    message = await client.messages.create(
        model=MODEL,
        max_tokens=30,
        system="Be brief.",
        messages=[
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": [{"type": "text", "text": f"second [[sim tag={tag}]]"}]},
        ],
    )
    assert message.content[0].text == reply_text("second", 30)  # type: ignore[union-attr]
    assert message.stop_reason == "max_tokens"  # env default tokens=60 > max_tokens
    assert message.usage.output_tokens == 30
    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished)
    assert record.stream is False and record.outcome == "complete"
    assert record.system == "Be brief." and len(record.messages) == 3


@pytest.mark.asyncio
async def test_count_tokens(client: anthropic.AsyncAnthropic) -> None:
    result = await client.messages.count_tokens(
        model=MODEL, system="sys!", messages=[{"role": "user", "content": "x" * 41}]
    )
    assert result.input_tokens == math.ceil((41 + 4) / 4)


@pytest.mark.asyncio
async def test_a_paced_stream_delivers_every_delta(client: anthropic.AsyncAnthropic) -> None:
    # The schedule itself (token k at ttft + k/tps) is tested on a fake clock: test_pacer.py.
    deltas: list[str] = []
    async with client.messages.stream(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "Hi [[sim tokens=20 tps=100 ttft=0.2]]"}],
    ) as stream:
        async for text in stream.text_stream:
            deltas.append(text)
    assert len(deltas) == 20 and all(deltas)


@pytest.mark.asyncio
async def test_pings_fill_the_silent_first_token_wait(sim: SimulatorServer) -> None:
    # Raw SSE, to see what the SDK hides: frame format, order and pings.
    body = {
        "model": MODEL,
        "max_tokens": 50,
        "stream": True,
        "messages": [{"role": "user", "content": "Hi [[sim tokens=3 ttft=0.45 ping=0.1]]"}],
    }
    frames: list[tuple[str, str]] = []
    async with httpx2.AsyncClient(timeout=5) as http:
        async with http.stream(
            "POST", f"{sim.base_url}/v1/messages", json=body, headers={"x-api-key": "k"}
        ) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert resp.headers["request-id"].startswith("req_sim_")
            raw = (await resp.aread()).decode()
    for block in raw.split("\n\n"):
        if block:
            event_line, data_line = block.split("\n")
            frames.append((event_line.removeprefix("event: "), data_line.removeprefix("data: ")))
    for event, data in frames:
        assert f'"type":"{event}"' in data
    kinds = [e for e, _ in frames if e != "ping"]
    assert kinds == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    first_delta = next(i for i, (e, _) in enumerate(frames) if e == "content_block_delta")
    pings_before = sum(1 for e, _ in frames[:first_delta] if e == "ping")
    assert 4 <= pings_before <= 6  # the initial ping + one per 0.1 s of the 0.45 s wait
