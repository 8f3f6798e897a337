"""When to push and when to read: the first token at once, later ones in batches.

A worker's CPU goes to two per-event costs: one network read of Claude's stream per
chunk (at 50 tokens/s that is one read per token) and one push per interval. Both are
batched on one cadence: after the first token, the reader waits until a push is due
before reading again (the kernel holds what arrived meanwhile, so the next read takes
it all at once), and the push interval widens as more replies stream in this process,
so the worker's pushes per second stay within a budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable

_DUE = 0.1  # the fraction of the interval by which a push may come early

Clock = Callable[[], float]  # seconds on a monotonic scale
Sleep = Callable[[float], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class PushPolicy:
    min_interval_s: float = 0.05
    # The slowest cadence a reader ever sees. A token waits at most one interval for its
    # push (reads are paced to land just before it), so this cap bounds delivery lag; each
    # step wider is fewer pushes, the worker's main cost under load.
    max_interval_s: float = 0.2
    pushes_per_s: float = 1000.0  # per worker, shared by its streaming replies

    def interval_s(self, live_streams: int) -> float:
        budget_share = live_streams / self.pushes_per_s
        return max(self.min_interval_s, min(self.max_interval_s, budget_share))


def _one_stream() -> int:
    return 1


@dataclasses.dataclass
class PushCoalescer:
    """One reply's push and read cadence. `clock` and `sleep` are the time it runs on: the
    process's monotonic clock and asyncio's sleep, or a test's fake pair. Times passed to
    `wait_s` and `pushed` must come from the same scale as `clock`."""

    policy: PushPolicy
    live_streams: Callable[[], int] = _one_stream
    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    _last_push: float | None = None
    pushed_version: int = -1  # the reply version the last push carried

    @property
    def interval_s(self) -> float:
        return self.policy.interval_s(self.live_streams())

    def wait_s(self, now: float) -> float:
        """Seconds to wait before a pending change may be pushed (0 = push now). Within
        `_DUE` of the interval counts as due: the paced reader's batch lands just before."""
        if self._last_push is None:
            return 0.0
        wait = self._last_push + self.interval_s - now
        return wait if wait > self.interval_s * _DUE else 0.0

    def pushed(self, now: float, version: int) -> None:
        self._last_push, self.pushed_version = now, version

    async def pace_read(self, started: bool, pending: bool) -> None:
        """Await between batches of network reads. Until the reply has `started` (its first
        token read) reads are immediate: no added first-token latency. Then each batch is
        read just before the next push is due, so the push carries it: a reader on its own
        cadence could miss a push by a hair and leave its batch waiting a whole interval
        more, so a token's delivery lag could near twice the interval. With a batch still
        `pending` (read, not yet pushed) the next one is for the push after: reading now
        would wake reader and pusher for a token or two that wait anyway."""
        if not started or self._last_push is None:
            return
        interval = self.interval_s
        next_push = self._last_push + interval
        if pending:
            next_push = max(next_push, self.clock()) + interval
        delay = next_push - interval * _DUE - self.clock()
        if delay > 0:
            await self.sleep(delay)
