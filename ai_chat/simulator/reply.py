"""One reply as decided before it is generated, and the watch for its client leaving.

Disconnects: ASGI servers only report a closed connection through ``receive()``; ``send()``
to a closed connection silently does nothing under uvicorn. So while a reply is generated a
second task waits on ``receive()`` and stamps ``disconnected_at`` the moment
``http.disconnect`` arrives, then the generator is cancelled. This works during silent waits
(first-token delay, stalls) too, where there is nothing to send that could fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from .options import SimOptions
from .protocol import Receive
from .records import Recorder, RequestRecord


@dataclass
class Reply:
    """Everything decided about one reply before it is generated."""

    request_id: str
    message_id: str
    model: str
    tokens: list[str]  # already cut to max_tokens
    stop_reason: str  # "end_turn" or "max_tokens"
    input_tokens: int
    opts: SimOptions
    record: RequestRecord
    recorder: Recorder
    done: bool = field(default=False)  # the response was completed on purpose
    thinking: list[str] = field(default_factory=list)  # thinking tokens, sent before the text

    def mark(self, **changes: Any) -> None:
        self.recorder.update(self.record, **changes)

    def usage(self, output_tokens: int) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }

    def failure(self) -> tuple[str, int] | None:
        """The earliest requested failure as (kind, token position), clamped to the reply."""
        o, n = self.opts, len(self.tokens)
        found: list[tuple[int, str]] = []
        if o.drop is not None:
            found.append((o.drop, "drop"))
        if o.stall is not None:
            found.append((o.stall, "stall"))
        if o.midstream_error is not None:
            found.append((o.at if o.at is not None else n // 2, "midstream_error"))
        if not found:
            return None
        pos, kind = min(found)
        return kind, min(pos, n)


async def watch_disconnect(receive: Receive, reply: Reply, work: Coroutine[Any, Any, None]) -> None:
    """Run `work`; if the client disconnects first, record when and cancel it."""
    work_task = asyncio.ensure_future(work)
    watch_task = asyncio.ensure_future(_wait_disconnect(receive, reply))
    try:
        await asyncio.wait({work_task, watch_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work_task, watch_task):
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if watch_task.done() and not watch_task.cancelled() and watch_task.result():
        return  # the client left; the work was cancelled
    work_task.result()  # re-raise a failure of the work itself


async def _wait_disconnect(receive: Receive, reply: Reply) -> bool:
    while True:
        message = await receive()
        if message["type"] != "http.disconnect":
            continue  # stray body chunks; the body was already read
        if reply.done:  # servers also say "disconnect" once a response has been completed
            await asyncio.Event().wait()  # stay pending; the finished work ends the wait
        now = time.time()  # stamp first: tests measure cancel -> this moment
        reply.mark(disconnected_at=now, completed_at=now, outcome="disconnected")
        return True
