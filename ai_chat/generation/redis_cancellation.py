"""Cross-worker stop through Redis: the Stop click may land on any worker.

Each worker cancels its own tasks (as LocalCancellation does). A stop for a task that is
not here is published on a channel every worker listens to, and remembered under a
short-lived key so that a task registered a moment later (the stop raced the start) is
cancelled on registration. Cost: nothing per token; two Redis commands per stop. Deleting a
conversation publishes its id the same way, so its replies stop on every worker.

Redis down: a reply is never held up or failed by this channel. Every command has a short
timeout, and after a failure a breaker skips Redis for a few seconds (a local Stop still
works; a Stop from another worker can't arrive and says so). The listener reconnects by
itself with Redis back, and then looks for stops left for the replies running here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis

from ai_chat.generation.cancellation import STOP_MESSAGE, LocalCancellation
from ai_chat.limits.backend import SHARED_ERRORS, Breaker

log = logging.getLogger(__name__)

CHANNEL = "ai_chat:stop"
KEY_PREFIX = "ai_chat:stop:"
# A message on the channel is a generation id, or this prefix and a deleted conversation's id.
CONVERSATION = "conversation:"
TIMEOUT_S = 0.5  # per command: a hung Redis holds a reply's start this long at most
# A worker's first reply waits for the subscription (a dead Redis fails it at once and opens
# the breaker; a busy worker's event loop may take a moment).
SUBSCRIBE_WAIT_S = 2.0
RETRY_S = 2.0  # after a failure, Redis is skipped this long
LISTEN_RETRY_S = (0.25, 2.0)  # the listener's reconnect delay: first, and at most


class RedisCancellation:
    def __init__(self, redis_url: str, key_ttl_s: int = 300, retry_s: float = RETRY_S) -> None:
        self._local = LocalCancellation()
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        # Subscribing blocks on reads, so no read timeout on the listener's own connection.
        self._pubsub_redis = aioredis.Redis.from_url(redis_url, socket_connect_timeout=TIMEOUT_S)
        self._key_ttl_s = key_ttl_s
        self.breaker = Breaker(
            retry_s,
            purpose="cross-worker Stop",
            fallback="a Stop reaches only replies running on the worker that gets it",
            restored="Stop reaches every worker again",
        )
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def listening(self) -> bool:
        """Subscribed to the stop channel now."""
        return self._subscribed.is_set()

    async def register(
        self, generation_id: str, task: asyncio.Task[None], conversation_id: str = ""
    ) -> None:
        # A local Stop works whatever Redis does.
        self._local.register_now(generation_id, task, conversation_id)
        self._ensure_listening()
        if not self.breaker.closed:
            return  # Redis failed a moment ago: the reply doesn't wait for it again
        try:
            # Subscribed before looking for the key: a stop published in between is heard.
            if not self._subscribed.is_set():
                await self._subscribed_or_failed()
            # A stop published before we listened for it left this key behind.
            if await self._redis.exists(KEY_PREFIX + generation_id):
                task.cancel(STOP_MESSAGE)
        except SHARED_ERRORS as exc:  # TimeoutError included: not subscribed in time
            self.breaker.failed("registering a reply", exc)
        else:
            self.breaker.succeeded()

    async def _subscribed_or_failed(self) -> None:
        """Until subscribed; TimeoutError if not within SUBSCRIBE_WAIT_S or if the listener
        fails meanwhile (the breaker opens)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SUBSCRIBE_WAIT_S
        while not self._subscribed.is_set():
            if not self.breaker.closed or loop.time() >= deadline:
                raise TimeoutError("not subscribed to the stop channel")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), timeout=0.05)

    def unregister(self, generation_id: str) -> None:
        self._local.unregister(generation_id)

    def is_running(self, generation_id: str) -> bool:
        return self._local.is_running(generation_id)

    async def request_stop(self, generation_id: str) -> bool:
        """False when the reply isn't here and Redis can't carry the stop to its worker."""
        if self._local.is_running(generation_id):
            return await self._local.request_stop(generation_id)
        if not self.breaker.closed:
            return False
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(KEY_PREFIX + generation_id, 1, ex=self._key_ttl_s)
                pipe.publish(CHANNEL, generation_id)
                await pipe.execute()
        except SHARED_ERRORS as exc:
            self.breaker.failed("sending a stop", exc)
            return False
        self.breaker.succeeded()
        return True

    async def stop_conversation(self, conversation_id: str) -> None:
        self._local.stop_conversation_here(conversation_id)
        if not self.breaker.closed:
            return  # other workers' replies in it run out (their turn finds it deleted)
        try:
            await self._redis.publish(CHANNEL, CONVERSATION + conversation_id)
        except SHARED_ERRORS as exc:
            self.breaker.failed(f"stopping conversation {conversation_id}'s replies", exc)

    def _ensure_listening(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(
                self._listen_forever(), name="ai_chat-stop-listener"
            )

    async def _listen_forever(self) -> None:
        """Subscribed while Redis answers; reconnects by itself when it comes back."""
        first, most = LISTEN_RETRY_S
        delay = first
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Redis gone, or a bad message
                self.breaker.failed("the stop listener", exc)
            else:
                delay = first
            await asyncio.sleep(delay)
            delay = min(delay * 2, most)

    async def _listen(self) -> None:
        pubsub = self._pubsub_redis.pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            self._subscribed.set()
            await self._stops_missed()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                stopped = message["data"].decode()
                if stopped.startswith(CONVERSATION):
                    self._local.stop_conversation_here(stopped.removeprefix(CONVERSATION))
                elif self._local.is_running(stopped):
                    await self._local.request_stop(stopped)
        finally:
            self._subscribed.clear()
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _stops_missed(self) -> None:
        """Stops left (as keys) for replies running here while we weren't subscribed."""
        running = [
            generation_id
            for generation_id, task in list(self._local._tasks.items())
            if not task.done() and not task.cancelling()
        ]
        if running and await self._redis.exists(*(KEY_PREFIX + g for g in running)):
            for generation_id in running:  # rare: look at each
                if await self._redis.exists(KEY_PREFIX + generation_id):
                    await self._local.request_stop(generation_id)
        self.breaker.succeeded()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        await self._redis.aclose()
        await self._pubsub_redis.aclose()
