"""A reply's checkpoint in Redis: a hash (tokens, status, beat: its worker's clock) and its
text and thinking in strings, appended to, all expiring after a day. Redis down: that round
goes to the database instead (`DbCheckpoints`), and a breaker keeps the next rounds there
for a few seconds, logged once per outage.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Sequence

import redis.asyncio as aioredis

from ai_chat.generation.checkpoints import CheckpointFellBack, DbCheckpoints, Saved
from ai_chat.limits.backend import REDIS_TIMEOUT_S, Breaker
from ai_chat.store import inflight

KEY_PREFIX = "ai_chat:reply:"
KEY_TTL_S = 86_400
SWEEP_KEY = "ai_chat:sweep:"  # held by the worker that sweeps this interval


def _keys(message_id: str) -> tuple[str, str, str]:
    base = KEY_PREFIX + message_id
    return base, base + ":text", base + ":thinking"


class RedisCheckpoints:
    def __init__(self, redis_url: str, db_url: str | None = None, scope: str = "") -> None:
        # Redis down (H4): short timeouts, and a breaker that sends the next rounds straight
        # to the database for a few seconds, logged once per outage.
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
        self._db = DbCheckpoints(db_url)
        # Per database: apps sharing a Redis but not a database (tests) sweep apart.
        scope = scope or str(db_url)
        self._sweep_key = SWEEP_KEY + hashlib.sha1(scope.encode()).hexdigest()[:12]
        self.breaker = Breaker(
            purpose="checkpoints",
            fallback="replies are checkpointed to the database",
            restored="replies are checkpointed to Redis again",
        )

    async def write(
        self, checkpoints: Sequence[inflight.Checkpoint], renew: Sequence[str], lease_s: float
    ) -> None:
        beat = time.time()
        if not self.breaker.closed:
            full = [dataclasses.replace(c, append=False) for c in checkpoints]
            await self._db.write(full, renew, lease_s)
            raise CheckpointFellBack
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for c in checkpoints:
                    meta, text, thinking = _keys(c.message_id)
                    fields: dict[str | bytes, str | float] = {
                        "tokens": c.output_tokens,
                        "status": c.status,
                        "beat": beat,
                    }
                    pipe.hset(meta, mapping=fields)
                    if c.append:
                        if c.text:
                            pipe.append(text, c.text)
                        if c.thinking:
                            pipe.append(thinking, c.thinking)
                    else:  # the first one (or after a failure): everything, and the expiry
                        pipe.set(text, c.text, ex=KEY_TTL_S)
                        pipe.set(thinking, c.thinking, ex=KEY_TTL_S)
                        pipe.expire(meta, KEY_TTL_S)
                for message_id in renew:
                    pipe.hset(_keys(message_id)[0], "beat", str(beat))
                await pipe.execute()
        except Exception as exc:  # noqa: BLE001 - Redis down: the database keeps the leases
            self.breaker.failed("a checkpoint", exc)
            full = [dataclasses.replace(c, append=False) for c in checkpoints]
            await self._db.write(full, renew, lease_s)
            raise CheckpointFellBack from None
        self.breaker.succeeded()

    async def claim_sweep(self, interval_s: float) -> bool:
        """One command per worker per interval; Redis down: every worker sweeps (and finds
        it can't read the beats: nothing is recovered until Redis is back)."""
        try:
            ms = max(1, int(interval_s * 900))  # a little under the interval: no gap
            return bool(await self._redis.set(self._sweep_key, 1, px=ms, nx=True))
        except Exception:  # noqa: BLE001 - see above
            return True

    async def beats(self, message_ids: Sequence[str]) -> dict[str, float]:
        if not message_ids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.hget(_keys(message_id)[0], "beat")
            raw = await pipe.execute()
        return {m: float(b) for m, b in zip(message_ids, raw, strict=True) if b is not None}

    async def read(self, message_ids: Sequence[str]) -> dict[str, Saved]:
        if not message_ids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                meta, text, thinking = _keys(message_id)
                pipe.hmget(meta, ["tokens", "beat"])
                pipe.get(text)
                pipe.get(thinking)
            raw = await pipe.execute()
        saved: dict[str, Saved] = {}
        for n, message_id in enumerate(message_ids):
            (tokens, beat), text, thinking = raw[3 * n], raw[3 * n + 1], raw[3 * n + 2]
            if beat is None:
                continue
            saved[message_id] = Saved(
                text=(text or b"").decode("utf-8", "replace"),
                thinking=(thinking or b"").decode("utf-8", "replace"),
                output_tokens=int(tokens or 0),
                beat=float(beat),
            )
        return saved

    async def forget(self, message_ids: Sequence[str]) -> None:
        if message_ids:
            await self._redis.delete(*(key for m in message_ids for key in _keys(m)))

    async def close(self) -> None:
        await self._redis.aclose()
