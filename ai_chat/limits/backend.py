"""Where the counts live: Redis (shared by all workers) when configured, else this worker's
memory; and this worker's memory again while Redis can't be reached.

The strategies and storages are the `limits` package's. Its keys normally include the
limit's amount; `Window` leaves it out, so an admin changing a user's limit keeps what the
user already used instead of starting them from zero.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import NamedTuple, TypeVar

import redis.exceptions
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from ai_chat import redis_monitor

log = logging.getLogger(__name__)

T = TypeVar("T")

# What an unreachable, slow or failing Redis raises (limits wraps its own in StorageError).
SHARED_ERRORS: tuple[type[BaseException], ...] = (
    StorageError,
    redis.exceptions.RedisError,
    OSError,
    TimeoutError,
)
REDIS_TIMEOUT_S = 0.5  # a hung Redis delays a turn's start by at most this, once per RETRY_S
RETRY_S = 5.0  # after a failure, this worker uses its memory this long before trying again


class Window(RateLimitItemPerSecond):
    """`amount` per `seconds`, keyed without the amount (see the module docstring)."""

    def __init__(self, amount: int, seconds: int, namespace: str) -> None:
        super().__init__(amount, multiples=seconds, namespace=namespace)

    def key_for(self, *identifiers: bytes | str | int | float) -> str:
        ids = (i.decode() if isinstance(i, bytes) else str(i) for i in identifiers)
        parts = [self.namespace, *ids, str(self.multiples)]
        return "/".join(parts)


@lru_cache(maxsize=1024)
def window(amount: int, seconds: int, namespace: str) -> Window:
    return Window(amount, seconds, namespace)


class LocalStorage(MemoryStorage):
    """`limits`' MemoryStorage, sweeping out expired entries at most every `SWEEP_S`.

    MemoryStorage starts a sweep after every hit, and a sweep hands each moving-window key
    to a thread (`asyncio.to_thread`): with many users that is most of a core
    (docs/PERFORMANCE.md, "Accounts and limits"). The counts don't depend on the sweep
    (windows are read by timestamp, counters checked for expiry when read): it only frees
    memory, so entries live at most `SWEEP_S` past their window. This overrides a private
    hook (docs/UPGRADING.md); tests/limits/test_units.py fails if it goes away, and
    `AI_CHAT_LIMITS_SWEEP_THROTTLE=0` is `limits`' own MemoryStorage."""

    SWEEP_S = 10.0

    def __init__(self) -> None:
        super().__init__()
        self._next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_S
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


class Limiters(NamedTuple):
    moving: MovingWindowRateLimiter  # exact: counts each event (messages, sign-ins)
    sliding: SlidingWindowCounterRateLimiter  # two counters: for large costs (tokens)

    @classmethod
    def on(cls, storage: Storage) -> Limiters:
        return cls(MovingWindowRateLimiter(storage), SlidingWindowCounterRateLimiter(storage))


class Breaker:
    """Remembers that Redis failed, so a worker doesn't wait on it for every turn.

    While open, callers use their fallback (this worker's memory, a local Stop) and try
    Redis again after `retry_s`; a failure also tells the worker's Redis monitor, so the
    degraded-service banner doesn't wait for its next ping."""

    def __init__(
        self,
        retry_s: float = RETRY_S,
        purpose: str = "limits",
        fallback: str = "this worker counts on its own for now (each limit per worker)",
        restored: str = "limits are shared by all workers again",
    ) -> None:
        self.retry_s = retry_s
        self.purpose, self.fallback, self.restored = purpose, fallback, restored
        self._down_until = 0.0
        self._down = False

    @property
    def closed(self) -> bool:
        """Redis is believed reachable (or it is time to try it again)."""
        return time.monotonic() >= self._down_until

    @property
    def down(self) -> bool:
        """The last call failed (and none has succeeded since)."""
        return self._down

    def failed(self, what: str, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_s
        redis_monitor.report_failure()
        if not self._down:  # once per outage, not once per call
            self._down = True
            log.warning(
                "Redis unreachable for %s (%s: %s): %s; retrying every %.0f s",
                self.purpose,
                what,
                exc,
                self.fallback,
                self.retry_s,
            )

    def succeeded(self) -> None:
        if self._down:
            self._down = False
            log.warning("Redis reachable again: %s", self.restored)


def storage_uri(redis_url: str) -> str:
    """The `limits` scheme for a redis-py URL (redis://, rediss://, unix://)."""
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url.removeprefix("unix://")
    return "async+" + redis_url


class Backend:
    """Runs a limiter call on the shared storage, or on this worker's memory."""

    def __init__(
        self,
        redis_url: str = "",
        key_prefix: str = "ai_chat:limits",
        throttled_sweep: bool = True,
    ) -> None:
        self.breaker = Breaker()
        self.local = Limiters.on(LocalStorage() if throttled_sweep else MemoryStorage())
        self.shared: Limiters | None = None
        if redis_url:
            storage = RedisStorage(
                storage_uri(redis_url),
                implementation="redispy",
                key_prefix=key_prefix,
                wrap_exceptions=True,
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
            )
            self.shared = Limiters.on(storage)

    async def run(self, what: str, op: Callable[[Limiters], Awaitable[T]]) -> T:
        if self.shared is not None and self.breaker.closed:
            try:
                result = await op(self.shared)
            except SHARED_ERRORS as exc:
                self.breaker.failed(what, exc)
            else:
                self.breaker.succeeded()
                return result
        return await op(self.local)

    async def close(self) -> None:
        if self.shared is not None:
            storage = self.shared.moving.storage
            assert isinstance(storage, RedisStorage)
            if isinstance(storage.bridge, RedispyBridge):
                # limits types it as a protocol without aclose; it is redis-py's client.
                await storage.bridge.get_connection().aclose()  # type: ignore[attr-defined]
