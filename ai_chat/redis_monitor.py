"""Is Redis reachable? One small watcher per worker, and the outage it sees.

Every Redis user on a reply's path (the cross-worker Stop, limits, checkpoints, Reflex's
own state) fails on its own when Redis goes; this one place turns that into a state the UI
can show ("degraded") and a moment to repair what doesn't heal by itself (the Reflex
listeners, `reflex_redis.py`). It pings at most every `UP_S` while Redis answers (one
command per worker, whatever the number of streams), every `DOWN_S` while it doesn't, and
sooner when a user of Redis reports a failure (`report_failure`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import cast

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

UP_S = 2.0  # ping gap while Redis answers
DOWN_S = 0.5  # …and while it doesn't: the banner goes as soon as it is back
TIMEOUT_S = 2.0  # a hung Redis counts as down after this (lenient: a busy loop is late)
FAILURES_TO_DOWN = 2  # pings in a row: one late answer in a busy worker is no outage

Listener = Callable[[bool], Awaitable[None]]  # called with `up` on every change


async def pinged(client: aioredis.Redis) -> bool:
    """`client.ping()` on an asyncio client. redis-py annotates its sync and asyncio clients
    with one signature (`Awaitable[bool] | bool`); this one always returns the awaitable."""
    return await cast("Awaitable[bool]", client.ping())


class RedisMonitor:
    def __init__(self, redis_url: str, up_s: float = UP_S, down_s: float = DOWN_S) -> None:
        self._client = aioredis.Redis.from_url(
            redis_url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        self.up_s, self.down_s = up_s, down_s
        self.up = True  # believed until pings say otherwise
        self._failures = 0
        self.down_since: float | None = None
        self._listeners: list[Listener] = []
        self._tick_listeners: list[Listener] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def failing(self) -> bool:
        """The last ping failed (the outage may not be declared yet)."""
        return self._failures > 0

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def on_tick(self, listener: Listener) -> None:
        """Called after every ping (e.g. to check that listeners are still alive)."""
        self._tick_listeners.append(listener)

    def report_failure(self) -> None:
        """A Redis user just failed: ping now rather than at the next tick."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="ai_chat-redis-monitor")

    async def check(self) -> bool:
        """One ping; tells the listeners if the answer changed."""
        try:
            await pinged(self._client)
            self._failures, up = 0, True
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable now"
            self._failures += 1
            up = self.up and self._failures < FAILURES_TO_DOWN
            if self.up and not up:
                log.warning("Redis unreachable (%s: %s): service degraded", type(exc).__name__, exc)
        if up != self.up:
            self.up = up
            self.down_since = None if up else time.time()
            if up:
                log.warning("Redis reachable again")
            for listener in self._listeners:
                await self._call(listener, up)
        for listener in self._tick_listeners:
            await self._call(listener, up)
        return up

    async def _call(self, listener: Listener, up: bool) -> None:
        try:
            await listener(up)
        except Exception:  # one listener's bug must not stop the watch
            log.exception("Redis status listener %r failed", listener)

    async def _run(self) -> None:
        while True:
            up = await self.check()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                wait = self.up_s if up and not self._failures else self.down_s
                await asyncio.wait_for(self._wake.wait(), wait)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._client.aclose()


_monitor: RedisMonitor | None = None


def get_monitor(redis_url: str) -> RedisMonitor:
    """This process's monitor (one per worker)."""
    global _monitor
    if _monitor is None:
        _monitor = RedisMonitor(redis_url)
    return _monitor


def redis_down() -> bool:
    """Whether this worker sees Redis as down now (False without Redis or a monitor)."""
    return _monitor is not None and not _monitor.up


def report_failure() -> None:
    if _monitor is not None:
        _monitor.report_failure()
