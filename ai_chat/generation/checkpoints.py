"""Checkpoints of the replies in flight: a crash loses at most a second of text.

One task per worker writes, once per `checkpoint_interval_s`, what each of its replies
gained since the last checkpoint, and renews their leases: one database transaction (no
Redis) or one Redis pipeline (with Redis) for all of them, nothing per token. Only the new
text is sent (an append), so a checkpoint costs a second's worth of text, not the reply's.

With Redis a reply's checkpoint is a hash (tokens, status, beat: its worker's clock) and
its text in a string, both expiring after a day; its database row keeps the lease it got
when its turn started. Redis down: that round goes to the database instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Protocol

from ai_chat.generation.live_reply import LiveReply
from ai_chat.store import inflight
from ai_chat.store.db import run_write
from ai_chat.store.models import MessageStatus, utcnow

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Saved:
    """A reply's checkpoint as read back (Redis)."""

    text: str
    thinking: str
    output_tokens: int
    beat: float  # time.time() of its worker's last checkpoint


class CheckpointStore(Protocol):
    async def write(
        self, checkpoints: Sequence[inflight.Checkpoint], renew: Sequence[str], lease_s: float
    ) -> None: ...

    async def beats(self, message_ids: Sequence[str]) -> dict[str, float]:
        """The last checkpoint time of those that have one (Redis only)."""
        ...

    async def claim_sweep(self, interval_s: float) -> bool:
        """Whether this worker sweeps this interval (with Redis, one worker does)."""
        ...

    async def read(self, message_ids: Sequence[str]) -> dict[str, Saved]: ...

    async def forget(self, message_ids: Sequence[str]) -> None: ...


class DbCheckpoints:
    def __init__(self, db_url: str | None = None) -> None:
        self._db_url = db_url

    async def write(
        self, checkpoints: Sequence[inflight.Checkpoint], renew: Sequence[str], lease_s: float
    ) -> None:
        lease_until = utcnow() + timedelta(seconds=lease_s)
        await run_write(inflight.checkpoint_sync, checkpoints, renew, lease_until, url=self._db_url)

    async def beats(self, message_ids: Sequence[str]) -> dict[str, float]:
        return {}  # the rows' leases say

    async def claim_sweep(self, interval_s: float) -> bool:
        return True

    async def read(self, message_ids: Sequence[str]) -> dict[str, Saved]:
        return {}  # the rows themselves are the checkpoints

    async def forget(self, message_ids: Sequence[str]) -> None:
        return None


class CheckpointFellBack(Exception):
    """Redis failed; the checkpoint went to the database (all of it, not appended)."""


@dataclasses.dataclass
class _Written:
    version: int
    text_len: int
    thinking_len: int


class Checkpointer:
    """The worker's checkpoint task: runs while it has replies in flight."""

    def __init__(
        self,
        store: CheckpointStore,
        replies: Callable[[], Iterable[LiveReply]],
        interval_s: float,
        lease_s: float,
    ) -> None:
        self.store = store
        self._replies = replies
        self.interval_s, self.lease_s = interval_s, lease_s
        self._written: dict[str, _Written] = {}  # message id -> what its checkpoint holds
        self._ended: list[str] = []  # replies stored since: their checkpoints are dropped
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0  # checkpoints written (all replies at once), for tests and benchmarks

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="ai_chat-checkpoints")

    def ended(self, message_id: str) -> None:
        """The reply is stored: its checkpoint goes with the next round."""
        if self._written.pop(message_id, None) is not None:
            self._ended.append(message_id)

    async def _loop(self) -> None:
        """Until no reply is left in flight here (the next one starts it again)."""
        while any(True for _ in self._replies()) or self._ended:
            await asyncio.sleep(self.interval_s)
            try:
                await self.checkpoint()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("checkpoint failed", exc_info=True)

    async def checkpoint(self, young_too: bool = False) -> None:
        """One round: every reply in flight, in one write. A reply younger than the interval
        is left out (unless `young_too`): it has less than an interval's text to lose, and
        its row's lease, set at its start, outlasts it; so a short reply costs no write."""
        checkpoints, renew, batch = self._collect(young_too)
        ended, self._ended = self._ended, []
        if ended:
            with contextlib.suppress(Exception):
                await self.store.forget(ended)
        if not checkpoints and not renew:
            return
        try:
            await self.store.write(checkpoints, renew, self.lease_s)
        except CheckpointFellBack:  # written whole to the database instead
            self._unwritten(batch)
            return
        except BaseException:
            self._unwritten(batch)
            raise
        self.rounds += 1

    def _unwritten(self, message_ids: list[str]) -> None:
        """Not known to hold these: the next round writes them whole."""
        for message_id in message_ids:
            self._written.pop(message_id, None)

    def _collect(self, young_too: bool) -> tuple[list[inflight.Checkpoint], list[str], list[str]]:
        checkpoints: list[inflight.Checkpoint] = []
        renew: list[str] = []
        batch: list[str] = []
        born_before = time.monotonic() - self.interval_s
        for reply in list(self._replies()):
            written = self._written.get(reply.message_id)
            if written is None and not young_too and reply.started_at > born_before:
                continue
            if written is not None and written.version == reply.version:
                renew.append(reply.message_id)
                continue
            text, thinking = reply.text, reply.thinking
            # A reply that has ended but isn't stored yet (the DB refused it) is still
            # "streaming" here: only its own end marks it final.
            status = MessageStatus.STREAMING if reply.status.is_final else reply.status
            append = written is not None
            start_text = written.text_len if written else 0
            start_thinking = written.thinking_len if written else 0
            checkpoints.append(
                inflight.Checkpoint(
                    reply.message_id,
                    text[start_text:],
                    thinking[start_thinking:],
                    status.value,
                    reply.output_tokens,
                    append=append,
                )
            )
            self._written[reply.message_id] = _Written(reply.version, len(text), len(thinking))
            batch.append(reply.message_id)
        return checkpoints, renew, batch

    async def stop(self) -> None:
        """Stop the task after a last round (shutdown: what is still in flight keeps its
        newest text)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.checkpoint(young_too=True)
