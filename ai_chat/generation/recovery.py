"""Replies whose worker is gone (crash, kill -9, a restart mid-reply): found by their lease,
never by process ids, and stored as interrupted with the text of their last checkpoint.

Every worker sweeps at startup, then every `sweep_interval_s` (with Redis, one worker per
interval): one indexed query for rows whose lease has passed, and with Redis one pipeline
for their checkpoints' beats. Opening a conversation recovers its own at once
(`recover_conversation`). A reply is alive while its lease holds: its row's `lease_until`
(set when its turn started, renewed by database checkpoints), or, with Redis, its
checkpoint's beat within `reply_lease_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from ai_chat.config import Settings
from ai_chat.generation.checkpoints import CheckpointStore, Saved
from ai_chat.generation.live_reply import estimate_tokens
from ai_chat.store import inflight
from ai_chat.store.conversations import ConversationNotFound, as_utc
from ai_chat.store.db import run_read, run_write
from ai_chat.store.models import utcnow

log = logging.getLogger(__name__)

INTERRUPTED = "The server stopped while this reply was being written; the text up to then was kept."


class Recovery:
    def __init__(
        self,
        settings: Settings,
        store: CheckpointStore,
        local: Callable[[], set[str]],  # message ids of the replies in flight here
        db_url: str | None = None,
    ) -> None:
        self.lease_s = settings.reply_lease_s
        self.sweep_interval_s = settings.sweep_interval_s
        self._store = store
        self._local = local
        self._db_url = db_url
        self._task: asyncio.Task[None] | None = None
        self.recovered = 0  # replies this worker stored as interrupted, for tests and logs

    async def alive(self, message_id: str) -> bool:
        """Whether some worker renewed this reply's lease within `reply_lease_s` (True when
        the database can't tell: a reply is never ended for an outage)."""
        if message_id in self._local():
            return True
        try:
            found = await run_read(inflight.lease_sync, message_id, url=self._db_url)
        except Exception:
            log.warning("could not read the lease of reply %s", message_id, exc_info=True)
            return True
        if found is None or found[0] is None:
            return False  # no such reply, or it has ended
        if not _passed(found[0], utcnow()):
            return True
        try:
            beat = (await self._store.beats([message_id])).get(message_id)
        except Exception:  # noqa: BLE001 - Redis down: only the database can tell
            return False
        return beat is not None and beat > time.time() - self.lease_s

    async def checkpointed(self, message_id: str) -> Saved | None:
        """A reply's Redis checkpoint (None without Redis, where its row's content is its
        checkpoint, or when Redis is down or holds none)."""
        try:
            return (await self._store.read([message_id])).get(message_id)
        except Exception:
            log.warning("could not read the checkpoint of reply %s", message_id, exc_info=True)
            return None

    async def recover_conversation(self, owner: str, conversation_id: str) -> int:
        """Its replies whose worker is gone (0 for a conversation not the owner's, and when
        the database or Redis is down: the sweeper tries again)."""
        try:
            rows = await run_read(
                inflight.in_flight_of_sync, owner, conversation_id, url=self._db_url
            )
            return await self._recover(rows, utcnow())
        except ConversationNotFound:
            return 0
        except Exception:
            log.warning("recovering the replies of %s failed", conversation_id, exc_info=True)
            return 0

    async def sweep(self, first: bool = False) -> int:
        """Every conversation's replies whose worker is gone. With Redis one worker does it
        per interval (a short lock), except at a worker's start."""
        if not first and not await self._store.claim_sweep(self.sweep_interval_s):
            return 0
        now = utcnow()
        rows = await run_read(inflight.expired_sync, now, url=self._db_url)
        return await self._recover(rows, now)

    async def _recover(self, rows: Sequence[inflight.InFlight], now: datetime) -> int:
        """Of `rows` (in flight), store the dead ones as interrupted: not running here, their
        row's lease passed, and (with Redis) no checkpoint beat within `reply_lease_s`."""
        local = self._local()
        rows = [r for r in rows if r.id not in local and _passed(r.lease_until, now)]
        if not rows:
            return 0
        beats = await self._store.beats([r.id for r in rows])  # Redis down: raises
        horizon = time.time() - self.lease_s
        dead = [r for r in rows if beats.get(r.id, 0.0) <= horizon]
        if not dead:
            return 0
        saved = await self._store.read([r.id for r in dead])
        interrupted = []
        for row in dead:
            checkpoint = saved.get(row.id)
            # Both are the reply's text so far; the database has the newer one if Redis was
            # down for its last checkpoints.
            text = max(checkpoint.text if checkpoint else "", row.content, key=len)
            thinking = max(checkpoint.thinking if checkpoint else "", row.thinking, key=len)
            tokens = max(
                checkpoint.output_tokens if checkpoint else (row.output_tokens or 0),
                estimate_tokens(text) + estimate_tokens(thinking),
            )
            interrupted.append((row.id, text, thinking, tokens))
        done = await run_write(
            inflight.interrupt_sync, interrupted, now, INTERRUPTED, url=self._db_url
        )
        self.recovered += done
        if done:
            log.warning("stored %d reply(s) whose worker is gone as interrupted", done)
        with contextlib.suppress(Exception):
            await self._store.forget([r.id for r in dead])
        return done

    def start(self) -> None:
        """The sweeper: at once, then every `sweep_interval_s`."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="ai_chat-sweeper")

    async def _loop(self) -> None:
        first = True
        while True:
            try:
                await self.sweep(first)
                first = False
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("sweeping replies in flight failed", exc_info=True)
            await asyncio.sleep(self.sweep_interval_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


def _passed(lease_until: datetime | None, now: datetime) -> bool:
    lease = as_utc(lease_until)
    return lease is not None and lease.astimezone(UTC) < now
