"""What the simulator saw of each /v1/messages request, for tests and benchmarks.

The app runs on the server's event loop (often another thread than the test's), so the
recorder is guarded by a lock and wakes both threads (``wait_for``) and event loops
(``wait_for_async``) on every change: tests wait on a condition instead of sleeping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_RECORDS = 1000

# Outcomes while in flight: "pending" (checking the request), "waiting" (before the first
# token), "streaming", "stalled". Final ones: "complete", "disconnected", "dropped",
# "error:<status>", "midstream_error:<type>", "stall_timeout".
FINAL_PREFIXES = ("complete", "disconnected", "dropped", "error:", "midstream_error:", "stall_")


@dataclass
class RequestRecord:
    request_id: str
    tag: str | None = None
    model: str | None = None
    stream: bool = False
    arrived_at: float = field(default_factory=time.time)
    first_token_at: float | None = None
    completed_at: float | None = None  # when the server finished with the request, any outcome
    disconnected_at: float | None = None  # when the client's disconnect reached the app
    tokens_sent: int = 0
    outcome: str = "pending"
    status: int | None = None  # HTTP status sent
    messages: Any = None  # the request body's `messages`, as sent (base64 data: its length)
    # Its image and document blocks: type, media type, title, bytes, pages (attachments.py).
    attachments: list[dict[str, Any]] = field(default_factory=list)
    system: Any = None
    thinking: Any = None  # the request's `thinking` config, as sent
    cache_control: Any = None  # the request's top-level `cache_control`, as sent
    options: dict[str, Any] = field(default_factory=dict)  # effective SimOptions

    @property
    def finished(self) -> bool:
        return self.outcome.startswith(FINAL_PREFIXES)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["finished"] = self.finished
        return data


Predicate = Callable[[RequestRecord], bool]


class Recorder:
    """Thread-safe, bounded (last `maxlen`) store of RequestRecords."""

    def __init__(self, maxlen: int = MAX_RECORDS) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=maxlen)
        self._cond = threading.Condition()
        # Async waiters: (loop, event) pairs woken thread-safely on every change.
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._blocked = 0  # threads in `wait_for`: with none and no async waiter, no wake-ups

    def add(self, record: RequestRecord) -> RequestRecord:
        with self._cond:
            self._records.append(record)
        self._notify()
        return record

    def update(self, record: RequestRecord, **changes: Any) -> None:
        """Change fields of `record` under the lock and wake the waiters."""
        with self._cond:
            for name, value in changes.items():
                setattr(record, name, value)
        self._notify()

    def all(self) -> list[RequestRecord]:
        with self._cond:
            return list(self._records)

    def find(self, tag: str) -> list[RequestRecord]:
        """Records with this tag, oldest first."""
        with self._cond:
            return [r for r in self._records if r.tag == tag]

    def get(self, request_id: str) -> RequestRecord | None:
        with self._cond:
            return next((r for r in self._records if r.request_id == request_id), None)

    def clear(self) -> int:
        with self._cond:
            n = len(self._records)
            self._records.clear()
        self._notify()
        return n

    def _first(self, predicate: Predicate) -> RequestRecord | None:
        with self._cond:
            return next((r for r in self._records if predicate(r)), None)

    def wait_for(self, predicate: Predicate, timeout: float = 5.0) -> RequestRecord:
        """Block until some record satisfies `predicate`; return it, or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = next((r for r in self._records if predicate(r)), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching request record within {timeout} s")
                self._blocked += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._blocked -= 1

    async def wait_for_async(self, predicate: Predicate, timeout: float = 5.0) -> RequestRecord:
        """`wait_for` without blocking the calling event loop."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        with self._cond:
            self._waiters.add(waiter)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event.clear()  # clear before checking so no change is missed
                    found = self._first(predicate)
                    if found is not None:
                        return found
                    await event.wait()
        except TimeoutError:
            raise TimeoutError(f"no matching request record within {timeout} s") from None
        finally:
            with self._cond:
                self._waiters.discard(waiter)

    def _notify(self) -> None:
        # Read after the change's own locked section: a waiter registers under the lock
        # before it checks, so one that missed the change is counted here.
        if not self._blocked and not self._waiters:
            return  # `tokens_sent` changes per token; most of the time nobody waits
        with self._cond:
            self._cond.notify_all()
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed; its waiter is gone
                pass
