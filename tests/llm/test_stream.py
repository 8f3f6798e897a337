"""`stream_reply` against the simulator over real HTTP, with the SDK sending the request."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing

import pytest

from ai_chat.llm import network
from ai_chat.llm.events import ReplyFinished, ReplyStarted, TextDelta
from ai_chat.llm.stream import ReplyRequest, RetryPolicy, stream_reply
from ai_chat.simulator.script import reply_text
from tests.llm.conftest import client_for, connection_of_a_reply


def _request(prompt: str) -> ReplyRequest:
    return ReplyRequest(
        model="claude-sonnet-5-5", messages=[{"role": "user", "content": prompt}], max_tokens=4000
    )


async def _collect(sim, prompt: str, pace=None, path: str = "tuned", **env: str) -> list:
    client = client_for(sim.base_url, path, **env)
    try:
        async with aclosing(stream_reply(client, _request(prompt), RetryPolicy(), pace=pace)) as ev:
            return [event async for event in ev]
    finally:
        await client.close()


async def test_events_carry_the_whole_reply_and_its_usage(sim, reply_path):
    events = await _collect(sim, "Tell me [[sim tokens=60 tps=2000 ttft=0]]", path=reply_path)
    started, *deltas, finished = events
    assert isinstance(started, ReplyStarted) and started.input_tokens > 0 and started.request_id
    assert all(isinstance(d, TextDelta) for d in deltas)
    # Deltas read together come joined; their numbering has no gap and no overlap.
    assert [d.index for d in deltas] == [
        sum(d.count for d in deltas[:k]) for k in range(len(deltas))
    ]
    assert sum(d.count for d in deltas) == 60
    assert "".join(d.text for d in deltas) == reply_text("Tell me", 60)
    assert finished == ReplyFinished(stop_reason="end_turn", output_tokens=60)


async def test_each_path_reads_on_the_connections_it_names(sim, reply_path):
    """Tuned: our asyncio connections under the SDK's pool; stock: httpcore's own."""
    client = client_for(sim.base_url, reply_path)
    stream = await connection_of_a_reply(client)
    await client.close()
    assert isinstance(stream, network.AsyncioStream) == (reply_path == "tuned")


async def test_on_the_stock_path_pace_is_never_awaited(sim):
    calls = 0

    async def pace() -> None:
        nonlocal calls
        calls += 1

    events = await _collect(sim, "Once [[sim tokens=30 tps=1000 ttft=0]]", pace, "stock")
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == reply_text("Once", 30) and calls == 0


BATCHES, PER_BATCH = 5, 10


@contextlib.asynccontextmanager
async def batched_api() -> AsyncIterator[tuple[str, Callable[[], Awaitable[None]]]]:
    """A Messages API endpoint that sends a reply's text in BATCHES batches of PER_BATCH
    one-token events (one HTTP chunk each, as Claude sends them), each batch only when the
    yielded `pace` asks for it, which returns once the batch is on the socket: each paced
    read finds exactly one batch waiting (no timing involved)."""
    wanted: asyncio.Queue[None] = asyncio.Queue()
    written: asyncio.Queue[None] = asyncio.Queue()
    left = BATCHES

    def chunked(events: list[bytes]) -> bytes:
        return b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events)

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n" + chunked([MESSAGE_START, TEXT_START])
        )
        for batch in range(BATCHES):
            await wanted.get()
            events = [text_delta(f"{batch}.{i} ") for i in range(PER_BATCH)]
            if batch == BATCHES - 1:
                events += END
            writer.write(chunked(events) + (b"0\r\n\r\n" if batch == BATCHES - 1 else b""))
            await writer.drain()
            written.put_nowait(None)
        writer.close()

    async def pace() -> None:
        nonlocal left
        if left:
            left -= 1
            wanted.put_nowait(None)
            await written.get()

    server = await asyncio.start_server(respond, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", pace
    finally:
        server.close()


def _sse(kind: str, body: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(body)}\n\n".encode()


MESSAGE_START = _sse(
    "message_start",
    {"type": "message_start", "message": {"model": "m", "usage": {"input_tokens": 3}}},
)
TEXT_START = _sse(
    "content_block_start",
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
)
END = [
    _sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
    _sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
    _sse("message_stop", {"type": "message_stop"}),
]
EXPECTED_TEXT = "".join(f"{b}.{i} " for b in range(BATCHES) for i in range(PER_BATCH))


def text_delta(text: str) -> bytes:
    return _sse(
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
    )


@pytest.mark.parametrize(
    ("env", "counts"),
    [
        # a paced read takes a batch; merged, its chunks reach the decoder as one, and its
        # deltas the consumer as one event
        ({}, [PER_BATCH] * BATCHES),
        # without the merger h11 hands on each chunk apart: one event per token
        ({"AI_CHAT_CHUNK_MERGER": "0"}, [1] * (BATCHES * PER_BATCH)),
    ],
    ids=["merger", "no-merger"],
)
async def test_a_paced_read_takes_what_piled_up(env, counts):
    async with batched_api() as (url, pace):
        client = client_for(url, "tuned", **env)
        request = _request("count")
        async with aclosing(stream_reply(client, request, RetryPolicy(), pace=pace)) as events:
            got = [event async for event in events]
        await client.close()
    deltas = [e for e in got if isinstance(e, TextDelta)]
    assert "".join(d.text for d in deltas) == EXPECTED_TEXT
    assert [d.count for d in deltas] == counts
    assert [d.index for d in deltas] == [sum(counts[:k]) for k in range(len(counts))]
    assert got[-1] == ReplyFinished(stop_reason="end_turn", output_tokens=0)
