"""How many turns a worker starts at once.

A turn's start (store the user turn, push it, build the request) is the most CPU a turn
costs in one go. When a crowd sends together, hundreds of starts share the event loop
with the replies already streaming and every stream's next push waits behind them.
A few slots let the starts queue instead, in send order, while streams keep their pace,
but the crowd then waits longer for its first text: off by default
(docs/performance-investigations.md, "A crowd sending at once").
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator


class TurnStartSlots:
    """At most `limit` turn starts at a time per event loop; `limit` ≤ 0: no bound."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # A semaphore belongs to one loop; tests run several, a worker one.
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._by_loop = weakref.WeakKeyDictionary()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.limit <= 0:
            yield
            return
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.limit)
        async with semaphore:
            yield
