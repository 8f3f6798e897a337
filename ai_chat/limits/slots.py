"""Replies in progress: at most N per user, and one per conversation.

`limits` counts events in time windows and has no semaphore, so this one piece is ours.
A slot is a key ("a user's replies", "a conversation's reply") with a most number of
holders; a holder is a generation id. A reply takes all its keys at once, or none.

With Redis, every key is a sorted set shared by all workers: members are the generation ids
holding it, scores the end of their lease in ms on Redis' own clock (so workers' clocks
don't matter). One Lua script drops ended leases, checks and takes every key atomically.
Each worker refreshes the leases of all its replies every `lease_s / 4` (one script call),
so a worker that dies stops refreshing and its slots free themselves at most `lease_s`
later: nothing leaks. Release is one ZREM per key. Without Redis (or while it is down)
the slots are this worker's sets, released when the reply ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence

import redis.asyncio as aioredis

from ai_chat.limits.backend import REDIS_TIMEOUT_S, SHARED_ERRORS, Breaker

log = logging.getLogger(__name__)

MISSED_MAX = 10_000  # releases kept for Redis' return (older ones: their lease ends them)

Claim = tuple[str, int]  # (key, most holders at once)

# KEYS: the slots; ARGV: holder, lease ms, then each key's most holders.
# Returns 0 when every key was taken, else the (1-based) index of the first full key.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if not redis.call('ZSCORE', key, ARGV[1])
     and redis.call('ZCARD', key) >= tonumber(ARGV[i + 2]) then
    return i
  end
end
local lease = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, ARGV[1])
  redis.call('PEXPIRE', key, lease)
end
return 0
"""

# KEYS: slots; ARGV: lease ms, then the holder of each key. Only holders still there.
_REFRESH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  if redis.call('ZADD', key, 'XX', 'CH', now + lease, ARGV[i + 1]) == 1 then
    redis.call('PEXPIRE', key, lease)
  end
end
return 0
"""


class LocalSlots:
    """This worker's slots (no await between check and take: atomic on its event loop)."""

    def __init__(self) -> None:
        self._holders: dict[str, set[str]] = {}

    def acquire(self, holder: str, claims: Sequence[Claim]) -> int:
        for index, (key, most) in enumerate(claims, start=1):
            holders = self._holders.get(key, ())
            if holder not in holders and len(holders) >= most:
                return index
        for key, _ in claims:
            self._holders.setdefault(key, set()).add(holder)
        return 0

    def release(self, holder: str, keys: Sequence[str]) -> None:
        for key in keys:
            holders = self._holders.get(key)
            if holders is not None:
                holders.discard(holder)
                if not holders:
                    del self._holders[key]


class RedisSlots:
    def __init__(self, redis_url: str, lease_s: float) -> None:
        self.client = aioredis.Redis.from_url(
            redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
        self.lease_ms = int(lease_s * 1000)
        self._acquire = self.client.register_script(_ACQUIRE)
        self._refresh = self.client.register_script(_REFRESH)

    async def acquire(self, holder: str, claims: Sequence[Claim]) -> int:
        keys = [key for key, _ in claims]
        args: list[str | int] = [holder, self.lease_ms, *(most for _, most in claims)]
        return int(await self._acquire(keys=keys, args=args))

    async def release(self, holder: str, keys: Sequence[str]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zrem(key, holder)
            await pipe.execute()

    async def refresh(self, held: Sequence[tuple[str, str]]) -> None:
        """`held`: (key, holder) pairs."""
        await self._refresh(
            keys=[key for key, _ in held], args=[self.lease_ms, *(h for _, h in held)]
        )


class ReplySlots:
    """Shared slots while Redis is configured and reachable, this worker's otherwise."""

    def __init__(self, redis_url: str, breaker: Breaker, lease_s: float) -> None:
        self.local = LocalSlots()
        self.shared = RedisSlots(redis_url, lease_s) if redis_url else None
        self.breaker = breaker
        self.lease_s = lease_s
        # holder -> what it took: (keys, taken in Redis?) per acquire
        self._held: dict[str, list[tuple[tuple[str, ...], bool]]] = {}
        self._refresher: asyncio.Task[None] | None = None
        # Releases Redis missed (it was down): done as soon as it answers again, or a slot
        # taken before an outage holds the user's next send for the rest of its lease.
        self._missed: deque[tuple[str, tuple[str, ...]]] = deque(maxlen=MISSED_MAX)

    async def acquire(self, holder: str, claims: Sequence[Claim]) -> int:
        """0: taken (with any keys `holder` already had); else the index of a full claim."""
        if not claims:
            return 0
        keys = tuple(key for key, _ in claims)
        if self.shared is not None and self.breaker.closed:
            try:
                await self.release_missed()
                full = await self.shared.acquire(holder, claims)
            except SHARED_ERRORS as exc:
                self.breaker.failed("reply slots", exc)
            else:
                self.breaker.succeeded()
                if not full:
                    self._held.setdefault(holder, []).append((keys, True))
                    self._keep_refreshing()
                return full
        full = self.local.acquire(holder, claims)
        if not full:
            self._held.setdefault(holder, []).append((keys, False))
        return full

    async def release(self, holder: str) -> None:
        """Frees what `holder` took; a no-op for one that holds nothing."""
        # Forgotten first: even a release cut short stops its refreshing (the lease ends it).
        for keys, shared in self._held.pop(holder, ()):
            if not shared:
                self.local.release(holder, keys)
                continue
            assert self.shared is not None
            try:
                await self.shared.release(holder, keys)
            except SHARED_ERRORS as exc:
                self._missed.append((holder, keys))
                log.warning(
                    "could not release reply slot %s (%s); released when Redis answers "
                    "again, or its lease ends in %.0f s",
                    holder,
                    exc,
                    self.lease_s,
                )

    @property
    def missed(self) -> int:
        return len(self._missed)

    async def release_missed(self) -> None:
        """The releases Redis missed while down (raises SHARED_ERRORS if it still can't).
        Called before each shared acquire, and by the worker's Redis watch when it's back."""
        while self._missed and self.shared is not None:
            await self.shared.release(*self._missed[0])
            self._missed.popleft()

    def holds(self, holder: str) -> bool:
        return holder in self._held

    def _keep_refreshing(self) -> None:
        task, loop = self._refresher, asyncio.get_running_loop()
        if task is None or task.done() or task.get_loop() is not loop:
            self._refresher = loop.create_task(self._refresh_loop(), name="ai_chat-reply-leases")

    async def _refresh_loop(self) -> None:
        assert self.shared is not None
        while True:
            await asyncio.sleep(self.lease_s / 4)
            held = [
                (key, holder)
                for holder, parts in self._held.items()
                for keys, shared in parts
                if shared
                for key in keys
            ]
            if not held:
                self._refresher = None  # the next acquire starts another
                return
            try:
                await self.shared.refresh(held)
            except SHARED_ERRORS as exc:
                log.warning("could not refresh %d reply leases: %s", len(held), exc)

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._refresher
        if self.shared is not None:
            await self.shared.client.aclose()
