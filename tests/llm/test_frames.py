"""Every event type of the Messages API's stream, as Claude sends it (bytes shaped after the
API's documented streams: one HTTP chunk per event), read by `stream_reply` through the SDK
on both paths: nothing Claude sends is dropped unseen, and the text path is unchanged."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from ai_chat.llm import frames
from ai_chat.llm.errors import ReplyError
from ai_chat.llm.events import (
    Citation,
    RedactedThinking,
    ReplyFinished,
    ReplyStarted,
    TextDelta,
    ThinkingDelta,
    ThinkingSignature,
    ToolCall,
    ToolResult,
)
from ai_chat.llm.sse import MAX_EVENT_BYTES
from ai_chat.llm.stream import ReplyRequest, RetryPolicy, stream_reply
from tests.llm.conftest import client_for

SEARCH_RESULT = {
    "type": "web_search_result",
    "title": "Weather in NYC",
    "url": "https://example.com/nyc",
    "encrypted_content": "EqgfCioIARgBIiQ3YTAw",
    "page_age": "3 hours ago",
}
CITATION = {
    "type": "web_search_result_location",
    "url": "https://example.com/nyc",
    "title": "Weather in NYC",
    "encrypted_index": "Eo8BCioIAhgBIiQy",
    "cited_text": "Sunny, 21 °C",
}


def frame(kind: str, body: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(body)}\n\n".encode()


def block_start(index: int, block: dict) -> bytes:
    return frame(
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def delta(index: int, body: dict) -> bytes:
    return frame(
        "content_block_delta", {"type": "content_block_delta", "index": index, "delta": body}
    )


def stop(index: int) -> bytes:
    return frame("content_block_stop", {"type": "content_block_stop", "index": index})


MESSAGE_START = frame(
    "message_start",
    {
        "type": "message_start",
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-sonnet-5-5",
            "stop_reason": None,
            "usage": {"input_tokens": 472, "output_tokens": 2, "cache_read_input_tokens": 7},
        },
    },
)
MESSAGE_END = [
    frame(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 89, "server_tool_use": {"web_search_requests": 1}},
        },
    ),
    frame("message_stop", {"type": "message_stop"}),
]
EVERY_KIND = [
    MESSAGE_START,
    block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
    delta(0, {"type": "thinking_delta", "thinking": "The user wants the weather."}),
    delta(0, {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA"}),
    stop(0),
    block_start(1, {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}),
    stop(1),
    frame("ping", {"type": "ping"}),
    block_start(2, {"type": "text", "text": ""}),
    delta(2, {"type": "text_delta", "text": "Let me "}),
    delta(2, {"type": "text_delta", "text": "search."}),
    stop(2),
    block_start(
        3, {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {}}
    ),
    delta(3, {"type": "input_json_delta", "partial_json": ""}),
    delta(3, {"type": "input_json_delta", "partial_json": '{"query": "weather'}),
    delta(3, {"type": "input_json_delta", "partial_json": ' NYC"}'}),
    stop(3),
    block_start(
        4,
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_01",
            "content": [SEARCH_RESULT],
        },
    ),
    stop(4),
    block_start(5, {"type": "text", "text": "", "citations": []}),
    delta(5, {"type": "citations_delta", "citation": CITATION}),
    delta(5, {"type": "text_delta", "text": "It is sunny."}),
    stop(5),
    block_start(6, {"type": "tool_use", "id": "toolu_01", "name": "get_time", "input": {}}),
    delta(6, {"type": "input_json_delta", "partial_json": '{"zone": "America/New_York"}'}),
    stop(6),
    *MESSAGE_END,
]


@contextlib.asynccontextmanager
async def messages_api(
    body: list[bytes] | None = None, endless_line: bool = False
) -> AsyncIterator[str]:
    """A Messages API endpoint answering every request with `body`, one HTTP chunk per
    event; `endless_line`: the body is one data line that never ends."""

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"request-id: req_frames\r\ntransfer-encoding: chunked\r\n\r\n"
            )
            if endless_line:
                writer.write(b"%x\r\n%s\r\n" % (len(MESSAGE_START), MESSAGE_START))
                piece = b"x" * 65536
                for _ in range(2 * MAX_EVENT_BYTES // len(piece)):  # until the client leaves
                    writer.write(b"%x\r\ndata: %s\r\n" % (len(piece) + 6, piece))
                    await writer.drain()
            for event in body or []:
                writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            writer.close()

    server = await asyncio.start_server(respond, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


async def read(base_url: str, path: str) -> list:
    client = client_for(base_url, path)
    request = ReplyRequest("claude-sonnet-5-5", [{"role": "user", "content": "hi"}], 1000)
    try:
        async with aclosing(stream_reply(client, request, RetryPolicy(max_retries=0))) as events:
            return [event async for event in events]
    finally:
        await client.close()


async def test_every_event_kind_becomes_its_event(reply_path):
    async with messages_api(EVERY_KIND) as url:
        events = await read(url, reply_path)
    assert events == [
        ReplyStarted("req_frames", "claude-sonnet-5-5", 472, cache_read_input_tokens=7),
        ThinkingDelta("The user wants the weather."),
        ThinkingSignature(0, "EqQBCgIYAhIM1gbcDa9GJwZA"),
        RedactedThinking(1, "EmwKAhgBEgy3va3pzix"),
        *events[4:-6],  # the first text block: its deltas joined or not, as read
        ToolCall(
            3,
            "server_tool_use",
            "srvtoolu_01",
            "web_search",
            {"query": "weather NYC"},
            '{"query": "weather NYC"}',
        ),
        ToolResult(4, "web_search_tool_result", "srvtoolu_01", [SEARCH_RESULT]),
        Citation(5, CITATION),
        TextDelta("It is sunny.", 2),
        ToolCall(
            6,
            "tool_use",
            "toolu_01",
            "get_time",
            {"zone": "America/New_York"},
            '{"zone": "America/New_York"}',
        ),
        ReplyFinished(stop_reason="tool_use", output_tokens=89),
    ]
    first_text = events[4:-6]
    assert all(isinstance(e, TextDelta) for e in first_text)
    assert "".join(e.text for e in first_text) == "Let me search."
    assert sum(e.count for e in first_text) == 2 and first_text[0].index == 0


async def test_an_unknown_event_block_or_delta_is_logged_once_and_the_reply_goes_on(
    reply_path, caplog, monkeypatch
):
    monkeypatch.setattr(frames, "_logged", set())
    body = [
        MESSAGE_START,
        frame("brand_new_event", {"type": "brand_new_event"}),
        block_start(0, {"type": "hologram", "data": "..."}),
        stop(0),
        block_start(1, {"type": "text", "text": ""}),
        delta(1, {"type": "telepathy_delta", "thought": "..."}),
        delta(1, {"type": "text_delta", "text": "Still here."}),
        stop(1),
        *MESSAGE_END,
    ]
    with caplog.at_level(logging.WARNING, logger=frames.__name__):
        async with messages_api(body) as url:
            first = await read(url, reply_path)
            second = await read(url, reply_path)
    assert first == second
    assert [e.text for e in first if isinstance(e, TextDelta)] == ["Still here."]
    assert isinstance(first[-1], ReplyFinished)
    unknown = [r.getMessage() for r in caplog.records]
    assert len(unknown) == 3  # once each, though two replies sent them
    assert any("'brand_new_event'" in m for m in unknown)
    assert any("'hologram'" in m for m in unknown)
    assert any("'telepathy_delta'" in m for m in unknown)


async def test_an_event_over_the_size_cap_fails_the_reply(reply_path):
    async with messages_api(endless_line=True) as url:
        with pytest.raises(ReplyError) as caught:
            await read(url, reply_path)
    assert caught.value.kind == "event_too_large"
    assert "MiB" in caught.value.message and not caught.value.retryable
