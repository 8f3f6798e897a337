"""Stop a running generation by id.

`LocalCancellation` cancels the asyncio task that consumes the Claude stream, so the
HTTP response closes at once, even while Claude is silent (a per-chunk flag would
wait for the next chunk). `RedisCancellation` (redis_cancellation.py) publishes a
stop to the worker that owns the task, for multi-worker deployments.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Protocol

STOP_MESSAGE = "stopped by user"


class Cancellation(Protocol):
    async def register(
        self, generation_id: str, task: asyncio.Task[None], conversation_id: str = ""
    ) -> None: ...

    def unregister(self, generation_id: str) -> None: ...

    async def request_stop(self, generation_id: str) -> bool:
        """Ask the generation to stop; True if it was running here and is now stopping."""
        ...

    async def stop_conversation(self, conversation_id: str) -> None:
        """Stop every generation in that conversation (it was deleted), wherever it runs."""
        ...


class LocalCancellation:
    """Tasks of this process, by generation id."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._conversations: dict[str, str] = {}  # generation id -> its conversation
        # Stops that arrived before the task existed (e.g. while the user turn was saved).
        self._early_stops: deque[str] = deque(maxlen=1024)

    async def register(
        self, generation_id: str, task: asyncio.Task[None], conversation_id: str = ""
    ) -> None:
        self.register_now(generation_id, task, conversation_id)

    def register_now(
        self, generation_id: str, task: asyncio.Task[None], conversation_id: str = ""
    ) -> None:
        self._tasks[generation_id] = task
        if conversation_id:
            self._conversations[generation_id] = conversation_id
        if generation_id in self._early_stops:
            self._early_stops.remove(generation_id)
            task.cancel(STOP_MESSAGE)

    def unregister(self, generation_id: str) -> None:
        self._tasks.pop(generation_id, None)
        self._conversations.pop(generation_id, None)

    def is_running(self, generation_id: str) -> bool:
        task = self._tasks.get(generation_id)
        return task is not None and not task.done()

    async def request_stop(self, generation_id: str) -> bool:
        task = self._tasks.get(generation_id)
        if task is None:
            self._early_stops.append(generation_id)
            return True
        if task.done():
            return False
        return task.cancel(STOP_MESSAGE)

    async def stop_conversation(self, conversation_id: str) -> None:
        self.stop_conversation_here(conversation_id)

    def stop_conversation_here(self, conversation_id: str) -> None:
        """This process's generations in that conversation; one already stopping (its own
        tab's Stop) is not cancelled twice."""
        for generation_id, conversation in list(self._conversations.items()):
            task = self._tasks.get(generation_id)
            if conversation == conversation_id and task and not task.done():
                if not task.cancelling():
                    task.cancel(STOP_MESSAGE)


def was_stopped_by_user(exc: asyncio.CancelledError) -> bool:
    return STOP_MESSAGE in exc.args
