"""A reply's live text for every other tab showing its conversation, on any worker.

The runner publishes each push it makes for its own tab (`publish`) and the reply's end
(`ended`); a watcher (one background event per tab showing a conversation, state/watch.py)
joins the conversation's `Channel` and wakes on each change. So a watcher pushes at most
once per owner push, and a conversation nobody else watches costs nothing per push.

`Fanout` is in-process (one worker). `RedisFanout` (fanout_redis.py) carries the same
frames over Redis pub/sub between workers. Frames are never stored: a watcher that joins
mid-reply starts from the row's checkpoint, then from the next frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import weakref
from collections.abc import AsyncIterator

from ai_chat.generation.live_reply import LiveSnapshot


@dataclasses.dataclass(frozen=True)
class LiveFrame:
    """What a watcher shows of a reply: the whole text so far (reassembled if it came in
    parts), or its end (`ended`: its row holds the final text, unless its save is pending)."""

    generation_id: str
    message_id: str
    text: str
    status: str
    output_tokens: int = 0
    elapsed_s: float = 0.0
    thinking: str = ""
    ended: bool = False


class Channel:
    """One conversation's latest frame in this worker, and the watchers waiting on it."""

    def __init__(self) -> None:
        self.frame: LiveFrame | None = None
        self.version = 0
        self.watchers = 0
        self.closed = False  # the process is stopping: its watchers end
        self._waiters: set[asyncio.Future[None]] = set()

    def set(self, frame: LiveFrame) -> None:
        self.frame = frame
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        self.version += 1
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, since: int, timeout: float) -> bool:
        """True once `version` moved past `since` (or the channel is closed); False after
        `timeout` without."""
        if self.version > since or self.closed:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return self.version > since


def frame_of(message_id: str, snapshot: LiveSnapshot) -> LiveFrame:
    return LiveFrame(
        generation_id=snapshot.generation_id,
        message_id=message_id,
        text=snapshot.text,
        status=snapshot.status,
        output_tokens=snapshot.output_tokens,
        elapsed_s=snapshot.elapsed_s,
        thinking=snapshot.thinking,
    )


class Fanout:
    """In-process fan-out: a publish sets the conversation's channel if anyone watches it."""

    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}
        self._closed = _stopping  # a service made while the process stops: closed too
        _ALL.add(self)

    # --- the runner's side ---------------------------------------------------------------

    async def publish(self, conversation_id: str, message_id: str, snapshot: LiveSnapshot) -> None:
        channel = self._channels.get(conversation_id)
        if channel is not None:
            channel.set(frame_of(message_id, snapshot))

    async def ended(
        self, conversation_id: str, generation_id: str, message_id: str, status: str
    ) -> None:
        channel = self._channels.get(conversation_id)
        if channel is not None:
            channel.set(LiveFrame(generation_id, message_id, "", status, ended=True))

    def forget(self, generation_id: str) -> None:
        """The reply is over: drop what the publisher kept for it (nothing here)."""

    # --- the watchers' side --------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def join(self, conversation_id: str) -> AsyncIterator[Channel]:
        channel = self._channels.setdefault(conversation_id, Channel())
        channel.closed = self._closed
        channel.watchers += 1
        if channel.watchers == 1:
            await self._subscribe(conversation_id, channel)
        try:
            yield channel
        finally:
            channel.watchers -= 1
            if channel.watchers == 0:
                self._channels.pop(conversation_id, None)
                await self._unsubscribe(conversation_id)

    async def _subscribe(self, conversation_id: str, channel: Channel) -> None:
        """A first watcher in this process (Redis: subscribe to the conversation)."""

    async def _unsubscribe(self, conversation_id: str) -> None:
        """The last watcher in this process left."""

    def watched(self) -> int:
        """Conversations watched in this process (for tests and metrics)."""
        return len(self._channels)

    def close_watchers(self) -> None:
        """Shutdown: every watcher of this process ends now (not at its next idle tick)."""
        self._closed = True
        for channel in list(self._channels.values()):
            channel.close()

    async def close(self) -> None:
        self.close_watchers()
        self._channels.clear()


_ALL: weakref.WeakSet[Fanout] = weakref.WeakSet()
_stopping = False


def close_all_watchers(stopping: bool = True) -> None:
    """The process stops: every watcher of every fan-out ends (tests make a service per
    settings; `stopping=False` lets the next ones watch again)."""
    global _stopping
    _stopping = stopping
    if stopping:
        for fanout in list(_ALL):
            fanout.close_watchers()


def stopping() -> bool:
    return _stopping
