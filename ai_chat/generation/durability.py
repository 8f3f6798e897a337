"""What keeps a worker's replies from being lost: their turns run in tasks the service owns
(not the tab's), their rows are checkpointed, a save the database refused is retried, and a
shutdown lets them finish for a grace period, then stores the rest as interrupted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ai_chat.config import Settings
from ai_chat.generation.checkpoints import Checkpointer, CheckpointStore, DbCheckpoints
from ai_chat.generation.job import ReplySaved
from ai_chat.generation.live_reply import LiveReply
from ai_chat.generation.recovery import Recovery
from ai_chat.store.conversations import ConversationNotFound
from ai_chat.store.models import MessageRow

log = logging.getLogger(__name__)

SHUTDOWN_MESSAGE = "server shutting down"
# After the grace period: the replies cancelled then get this long to be stored. Granian
# kills a worker 2 s after the grace (ops/workers.kill_timeout_s); what is not stored by then
# is recovered from its checkpoint at the next start.
STORE_AFTER_CANCEL_S = 1.5
DRAINING = (
    "The server is restarting, so your message was not sent. Your text is still in the "
    "box: send it again in a few seconds."
)
NOT_SAVED = (
    "The reply could not be saved (the database is unreachable): it is shown here but will "
    "be missing after a reload."
)
DELETED_WHILE_SAVING = "This conversation was deleted meanwhile, so this reply was not saved."


def checkpoint_store(settings: Settings, db_url: str | None = None) -> CheckpointStore:
    if settings.redis_url:
        from ai_chat.generation.checkpoints_redis import RedisCheckpoints

        return RedisCheckpoints(settings.redis_url, db_url, scope=db_url or settings.db_url)
    return DbCheckpoints(db_url)


class Durability:
    def __init__(
        self, settings: Settings, store: CheckpointStore, db_url: str | None = None
    ) -> None:
        self.settings = settings
        self.draining = False
        self._tasks: dict[str, asyncio.Task[None]] = {}  # generation id -> its turn's task
        self._streams: dict[str, asyncio.Task[None]] = {}  # generation id -> its Claude stream
        self._replies: dict[str, LiveReply] = {}  # generation id -> its reply's row in flight
        self.checkpointer = Checkpointer(
            store,
            self._replies.values,
            settings.checkpoint_interval_s,
            settings.reply_lease_s,
        )
        self.recovery = Recovery(settings, store, self.local_message_ids, db_url)

    def local_message_ids(self) -> set[str]:
        return {reply.message_id for reply in self._replies.values()}

    def has_row(self, generation_id: str) -> bool:
        """Its user turn and reply's row are stored (and the reply not yet)."""
        return generation_id in self._replies

    def running(self, generation_id: str) -> bool:
        return generation_id in self._tasks

    def spawn(self, generation_id: str, turn: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """The turn runs in its own task, whatever becomes of whoever started it."""
        task = asyncio.create_task(turn, name=f"ai_chat-turn-{generation_id}")
        self._tasks[generation_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(generation_id, None))
        return task

    def row_written(self, reply: LiveReply) -> None:
        """Its row is in flight: checkpointed from now on."""
        self._replies[reply.generation_id] = reply
        self.checkpointer.start()

    def streaming(self, generation_id: str, stream: asyncio.Task[None]) -> None:
        self._streams[generation_id] = stream
        stream.add_done_callback(lambda _: self._streams.pop(generation_id, None))

    def row_ended(self, reply: LiveReply) -> None:
        """Stored (or given up): no more checkpoints."""
        if self._replies.pop(reply.generation_id, None) is not None:
            self.checkpointer.ended(reply.message_id)

    async def retry_save(
        self, message: MessageRow, save: Callable[[], Awaitable[None]]
    ) -> ReplySaved:
        """Retry a save the database refused, backing off, for `save_retry_s`."""
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + self.settings.save_retry_s, 0.5
        while True:
            await asyncio.sleep(max(0.0, min(delay, deadline - loop.time())))
            try:
                await save()
            except ConversationNotFound:
                log.info("conversation %s was deleted before its reply was saved", message.id)
                return ReplySaved(message.id, saved=False, error=DELETED_WHILE_SAVING)
            except Exception as exc:  # noqa: BLE001 - still down: try again, for a while
                if loop.time() >= deadline:
                    log.error("reply %s could not be saved: %s", message.id, exc)
                    return ReplySaved(message.id, saved=False, error=NOT_SAVED)
                delay = min(delay * 2, 10.0)
                continue
            log.info("reply %s saved after the database came back", message.id)
            return ReplySaved(message.id, saved=True)

    def start(self) -> None:
        """The lifespan's start: the sweeper (at once, then periodically)."""
        self.recovery.start()

    async def drain(self, grace_s: float) -> None:
        """Shutdown: refuse new turns, let those in flight end for `grace_s`, then cancel the
        rest (stored as interrupted, with their text); a last checkpoint for whatever is
        still in flight (e.g. a save the database refuses)."""
        self.draining = True
        loop = asyncio.get_running_loop()
        if turns := list(self._tasks.values()):
            log.info("shutting down: %d reply(s) in flight get %.0f s", len(turns), grace_s)
            await asyncio.wait(turns, timeout=grace_s)
        if streams := [s for s in self._streams.values() if not s.done()]:
            log.warning("shutting down: %d reply(s) stored as interrupted", len(streams))
            for stream in streams:
                stream.cancel(SHUTDOWN_MESSAGE)
        left = [t for t in self._tasks.values() if not t.done()]
        if left:
            end = loop.time() + STORE_AFTER_CANCEL_S
            await asyncio.wait(left, timeout=max(0.01, end - loop.time()))
        await self.recovery.stop()
        await self.checkpointer.stop()
