"""Generating a reply: paced SSE frames, or one JSON message (the client's leaving is watched
in `reply`).

Drops: the app returns without finishing the chunked body. uvicorn then closes the transport
(logging "ASGI callable returned without completing response."), and the anthropic SDK
(httpx2) raises ``httpx2.RemoteProtocolError`` ("peer closed connection without sending complete
message body: incomplete chunked read") from the stream iterator.

Stalls: with ``ping=0`` nothing at all is sent, so the SDK raises ``httpx2.ReadTimeout`` once
its read timeout passes and closes the connection (recorded as "disconnected"); with pings on,
a stalled stream looks alive to the client, as a real one would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .options import MAX_WAIT_S, STATUS_BY_TYPE
from .protocol import (
    JSON_CONTENT_TYPE,
    SSE_CONTENT_TYPE,
    Send,
    base_headers,
    delta_frame,
    dumps,
    error_body,
    retry_after_value,
    send_error,
    sse_frame,
)
from .reply import Reply


class Pacer:
    """Sends frames on a monotonic clock (the loop's unless given); token k is due at
    t0 + ttft + k/tps, so lateness of one frame never delays the next (no drift)."""

    def __init__(
        self,
        send: Send,
        reply: Reply,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.send = send
        self.reply = reply
        self.clock = clock or asyncio.get_running_loop().time
        self.sleep = sleep
        self.t0 = self.clock()
        self.last_sent = self.t0

    async def frame(self, data: dict[str, Any]) -> None:
        await self.frame_bytes(sse_frame(data))

    async def frame_bytes(self, frame: bytes) -> None:
        await self.send({"type": "http.response.body", "body": frame, "more_body": True})
        self.last_sent = self.clock()

    def due(self, token_index: int) -> float:
        o = self.reply.opts
        return self.t0 + o.ttft + token_index / o.tps

    async def wait_until(self, deadline: float) -> None:
        """Sleep until `deadline`, sending a ping each `ping` seconds of silence."""
        ping = self.reply.opts.ping
        while True:
            now = self.clock()
            if now >= deadline:
                await asyncio.sleep(0)  # still yield, so a fast stream can't hog the loop
                return
            if ping > 0 and self.last_sent + ping < deadline:
                await self.sleep(max(0.0, self.last_sent + ping - now))
                await self.frame({"type": "ping"})
                continue
            await self.sleep(deadline - now)
            return


async def stream_reply(send: Send, reply: Reply) -> None:
    """The SSE response: message_start ... message_stop, or a requested failure."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                *base_headers(reply.request_id, SSE_CONTENT_TYPE),
                (b"cache-control", b"no-cache"),
            ],
        }
    )
    reply.mark(status=200, outcome="waiting")
    p = Pacer(send, reply)
    await p.frame(
        {
            "type": "message_start",
            "message": {
                "id": reply.message_id,
                "type": "message",
                "role": "assistant",
                "model": reply.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": reply.usage(1),
            },
        }
    )
    await p.frame({"type": "ping"})
    text_index = 0
    if reply.thinking:
        await _stream_thinking(p, reply)
        text_index = 1
    await p.frame(
        {
            "type": "content_block_start",
            "index": text_index,
            "content_block": {"type": "text", "text": ""},
        }
    )

    failure = reply.failure()
    limit = failure[1] if failure else len(reply.tokens)
    sent = 0
    while sent < limit:
        end = min(sent + reply.opts.chunk, limit)
        # a chunk goes out when its last token is due (thinking tokens came first)
        await p.wait_until(p.due(len(reply.thinking) + end - 1))
        text = "".join(reply.tokens[sent:end])
        await p.frame_bytes(delta_frame(text_index, "text_delta", "text", text))
        if sent == 0:
            reply.mark(first_token_at=time.time(), outcome="streaming")
        sent = end
        reply.mark(tokens_sent=sent)

    if failure is None:
        await p.frame({"type": "content_block_stop", "index": text_index})
        await p.frame(
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": sent + len(reply.thinking)},
            }
        )
        await p.frame({"type": "message_stop"})
        await _finish(send, reply, "complete")
        return

    kind = failure[0]
    if kind == "midstream_error":
        err = reply.opts.midstream_error or "overloaded_error"
        await p.frame(error_body(err, None, None))
        await _finish(send, reply, f"midstream_error:{err}")
    elif kind == "stall":
        reply.mark(outcome="stalled")
        await p.wait_until(p.clock() + MAX_WAIT_S)
        reply.mark(outcome="stall_timeout", completed_at=time.time())  # then drop
    else:
        reply.mark(outcome="dropped", completed_at=time.time())
    # drop / stall timeout: return with the chunked body unfinished, so the server cuts the
    # connection and the client sees an incomplete message.


async def _stream_thinking(p: Pacer, reply: Reply) -> None:
    """Block 0: thinking_delta frames, then the signature that closes a thinking block."""
    await p.frame(
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        }
    )
    for k, token in enumerate(reply.thinking):
        await p.wait_until(p.due(k))
        await p.frame_bytes(delta_frame(0, "thinking_delta", "thinking", token))
    await p.frame(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "sim-signature"},
        }
    )
    await p.frame({"type": "content_block_stop", "index": 0})


async def _finish(send: Send, reply: Reply, outcome: str) -> None:
    reply.done = True  # before the last send: the server reports "disconnect" right after it
    await send({"type": "http.response.body", "body": b"", "more_body": False})
    reply.mark(outcome=outcome, completed_at=time.time())


async def json_reply(send: Send, reply: Reply) -> None:
    """Non-streaming: wait as long as generating would take, then one JSON message."""
    o, n = reply.opts, len(reply.tokens)
    failure = reply.failure()
    if failure and failure[0] == "midstream_error":
        # Non-streaming calls can't fail mid-body: answer with the error's HTTP status.
        err = o.midstream_error or "overloaded_error"
        status = STATUS_BY_TYPE[err]
        extra = [(b"retry-after", retry_after_value(o.retry_after))] if status in (429, 529) else []
        reply.done = True
        await send_error(send, status, reply.request_id, None, extra)
        reply.mark(status=status, outcome=f"error:{status}", completed_at=time.time())
        return
    if failure and failure[0] == "stall":
        reply.mark(outcome="stalled")
        await asyncio.sleep(MAX_WAIT_S)
        reply.mark(outcome="stall_timeout", completed_at=time.time())
        return  # nothing was sent: the server answers 500 (uvicorn) after the cap
    await asyncio.sleep(max(0.0, o.ttft + max(0, n - 1) / o.tps))
    body = dumps(
        {
            "id": reply.message_id,
            "type": "message",
            "role": "assistant",
            "model": reply.model,
            "content": [{"type": "text", "text": "".join(reply.tokens)}],
            "stop_reason": reply.stop_reason,
            "stop_sequence": None,
            "usage": reply.usage(n),
        }
    )
    headers = base_headers(reply.request_id, JSON_CONTENT_TYPE)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    reply.mark(status=200, first_token_at=time.time())
    if failure and failure[0] == "drop":
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        reply.mark(outcome="dropped", completed_at=time.time())
        return  # unfinished body: the connection is cut
    reply.done = True
    await send({"type": "http.response.body", "body": body, "more_body": False})
    reply.mark(outcome="complete", tokens_sent=n, completed_at=time.time())
