"""Cross-worker stop through Redis: the Stop click may land on any worker.

Each worker cancels its own tasks (as LocalCancellation does). A stop for a task that is
not here is published on a channel every worker listens to, and remembered under a
short-lived key so that a task registered a moment later (the stop raced the start) is
cancelled on registration. Cost: nothing per token; two Redis commands per stop. Deleting a
conversation publishes its id the same way, so its replies stop on every worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis

from ai_chat.generation.cancellation import STOP_MESSAGE, LocalCancellation

log = logging.getLogger(__name__)

CHANNEL = "ai_chat:stop"
KEY_PREFIX = "ai_chat:stop:"
# A message on the channel is a generation id, or this prefix and a deleted conversation's id.
CONVERSATION = "conversation:"


class RedisCancellation:
    def __init__(self, redis_url: str, key_ttl_s: int = 300) -> None:
        self._local = LocalCancellation()
        self._redis = aioredis.Redis.from_url(redis_url)
        self._key_ttl_s = key_ttl_s
        self._listener: asyncio.Task | None = None
        self._subscribed = asyncio.Event()

    async def register(
        self, generation_id: str, task: asyncio.Task, conversation_id: str = ""
    ) -> None:
        # A local Stop works whatever Redis does.
        self._local.register_now(generation_id, task, conversation_id)
        try:
            await self._ensure_listening()
            # A stop published before we listened for it left this key behind.
            if await self._redis.exists(KEY_PREFIX + generation_id):
                task.cancel(STOP_MESSAGE)
        except Exception:  # Redis down: the reply goes on; only cross-worker Stop is lost
            log.exception("cross-worker stop unavailable for %s", generation_id)

    def unregister(self, generation_id: str) -> None:
        self._local.unregister(generation_id)

    def is_running(self, generation_id: str) -> bool:
        return self._local.is_running(generation_id)

    async def request_stop(self, generation_id: str) -> bool:
        if self._local.is_running(generation_id):
            return await self._local.request_stop(generation_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(KEY_PREFIX + generation_id, 1, ex=self._key_ttl_s)
            pipe.publish(CHANNEL, generation_id)
            await pipe.execute()
        return True

    async def stop_conversation(self, conversation_id: str) -> None:
        self._local.stop_conversation_here(conversation_id)
        try:
            await self._redis.publish(CHANNEL, CONVERSATION + conversation_id)
        except Exception:  # Redis down: the deletion goes on; other workers' replies run out
            log.exception("could not reach other workers to stop %s's replies", conversation_id)

    async def _ensure_listening(self) -> None:
        if self._listener is None or self._listener.done():
            self._subscribed.clear()
            self._listener = asyncio.create_task(self._listen(), name="ai_chat-stop-listener")
        await asyncio.wait_for(self._subscribed.wait(), timeout=5)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(CHANNEL)
            self._subscribed.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                stopped = message["data"].decode()
                if stopped.startswith(CONVERSATION):
                    self._local.stop_conversation_here(stopped.removeprefix(CONVERSATION))
                elif self._local.is_running(stopped):
                    await self._local.request_stop(stopped)
        except asyncio.CancelledError:
            raise
        except Exception:  # the next register() restarts the listener
            log.exception("the Redis stop listener failed")
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        await self._redis.aclose()
