"""Hands a turn's updates from the task that runs the turn to whoever iterates `run()`.

The turn lives in its own task (owned by the service), so it runs to its end and is stored
even when its consumer goes away (the tab's task died: socket gone, Redis down). A live
snapshot is handed over as a generator would: the turn waits until the consumer asks for
the next update (the push cadence is timed by the pushes), unless the consumer is gone or
the stream has ended, or it has not asked for `stall_s` (a tab whose pushes hang, e.g. on
a Redis that stopped answering): from then on snapshots stop waiting and a snapshot still
queued is replaced by the newer one, so a stuck consumer costs one snapshot of memory.
Other updates never wait.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator
from typing import Protocol

from ai_chat.generation.job import Update
from ai_chat.generation.live_reply import LiveSnapshot

_END = object()
STALL_S = 10.0


class Observer(Protocol):
    """Sees every update of the turn, consumer or not, then its end (ai_chat/ops/turn_log.py)."""

    def update(self, update: object) -> None: ...

    def end(self) -> None: ...


class Relay:
    def __init__(self, observer: Observer | None = None, stall_s: float = STALL_S) -> None:
        self._observer = observer
        self._stall_s = stall_s
        self._items: deque[object] = deque()
        self._arrived: asyncio.Future[None] | None = None  # the consumer waits on it
        self._asked: asyncio.Future[None] | None = None  # a snapshot's sender waits on it
        self._gone = False  # the consumer left: nothing is handed over any more
        self._released = False  # the stream ended: snapshots no longer wait
        self._stalled = False  # the consumer did not ask for `stall_s`: nor do they queue

    @property
    def gone(self) -> bool:
        return self._gone

    def post(self, update: Update) -> None:
        """Hand over without waiting."""
        if self._observer is not None:
            self._observer.update(update)
        if not self._gone:
            self._put(update)

    async def send(self, update: Update) -> None:
        """Hand over, then wait until the consumer asks for the next one (or leaves, or
        `release` is called, or `stall_s` passes)."""
        if self._observer is not None:
            self._observer.update(update)
        if self._gone:
            return
        if self._stalled and self._items and isinstance(self._items[-1], LiveSnapshot):
            self._items[-1] = update  # not taken yet: the newer one says all it did
            return
        self._put(update)
        if self._released:
            return
        loop = asyncio.get_running_loop()
        self._asked = loop.create_future()
        # A bare timer, not wait_for: this runs once per push of every stream.
        timer = loop.call_later(self._stall_s, self._stall)
        try:
            await self._asked
        finally:
            timer.cancel()
            self._asked = None

    def _stall(self) -> None:
        """The consumer did not ask for `stall_s`: it is stuck, the turn goes on without it."""
        self._stalled = True
        self.release()

    def release(self) -> None:
        """Snapshots stop waiting for the consumer (the stream has ended)."""
        self._released = True
        _resolve(self._asked)

    def close(self) -> None:
        """No more updates."""
        if self._observer is not None:
            self._observer.end()
        self._put(_END)
        self.release()

    def _put(self, item: object) -> None:
        self._items.append(item)
        _resolve(self._arrived)

    async def updates(self) -> AsyncGenerator[Update, None]:
        """The turn's updates, for one consumer; leaving early detaches it."""
        try:
            while True:
                while not self._items:
                    self._arrived = asyncio.get_running_loop().create_future()
                    try:
                        await self._arrived
                    finally:
                        self._arrived = None
                item = self._items.popleft()
                if item is _END:
                    return
                yield item  # type: ignore[misc]
                if not self._items:  # it asks for the next one: what was sent is taken
                    _resolve(self._asked)
        finally:
            self._gone = True
            self._items.clear()
            _resolve(self._asked)


def _resolve(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)
