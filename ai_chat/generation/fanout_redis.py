"""Live frames between workers over Redis pub/sub (one channel per conversation).

Cost, bounded (measured in docs/PERFORMANCE.md, `benchmarks/fanout_cost.py`):
- nobody else watching: at most one small PUBLISH a second per reply (its answer, the
  number of workers subscribed, is how the publisher learns that someone joined), and one
  at its end;
- someone watching, anywhere: one PUBLISH per owner push, whatever the number of watchers
  (Redis copies it to each subscribed worker; a worker's watchers share one subscription).
A frame carries only the text added since the previous one; a worker that joined gets the
whole text in the next frame (the publisher sees the subscriber count grow), and every
`FULL_EVERY_S` anyway, so a missed frame heals.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from typing import Any

import redis.asyncio as aioredis

from ai_chat.generation.fanout import Channel, Fanout, LiveFrame
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.limits.backend import SHARED_ERRORS

log = logging.getLogger(__name__)

PREFIX = "ai_chat:live:"
PROBE_S = 1.0  # nobody listening: one frame a second, to find out when someone does
FULL_EVERY_S = 10.0
TIMEOUT_S = 0.5
MAX_REPLIES = 4096  # publishers' bookkeeping kept at most (a worker streams far fewer)


@dataclasses.dataclass
class _Sent:
    """What the publisher sent of one reply."""

    text_len: int = 0
    thinking_len: int = 0
    listeners: int = 0  # workers subscribed, as the last PUBLISH answered
    probe_at: float = float("-inf")
    full_at: float = 0.0


class RedisFanout(Fanout):
    def __init__(self, redis_url: str) -> None:
        super().__init__()
        # A hung Redis holds a reply's next push this long at most.
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        # Subscribing blocks on reads: no read timeout on the subscriber's own connection.
        self._sub_redis = aioredis.Redis.from_url(redis_url, socket_connect_timeout=TIMEOUT_S)
        self._pubsub = self._sub_redis.pubsub()
        self._listener: asyncio.Task[None] | None = None
        self._subscribing = asyncio.Lock()  # subscribe and unsubscribe, one at a time
        self._sent: dict[str, _Sent] = {}
        self._down_until = 0.0  # after an error, publishing pauses (the reply goes on)

    # --- the runner's side ---------------------------------------------------------------

    async def publish(self, conversation_id: str, message_id: str, snapshot: LiveSnapshot) -> None:
        if len(self._sent) > MAX_REPLIES and snapshot.generation_id not in self._sent:
            self._sent.clear()  # replies that never ended (a crashed turn): start afresh
        sent = self._sent.setdefault(snapshot.generation_id, _Sent())
        now = time.monotonic()
        if now < self._down_until:
            return
        full = False
        if sent.listeners == 0:
            if now - sent.probe_at < PROBE_S:
                return
            sent.probe_at = now
            probe = _head(snapshot, message_id, offset=len(snapshot.text))
            if not await self._send(conversation_id, probe, sent):
                return
            full = True  # someone just joined: they need the whole text
        elif now - sent.full_at >= FULL_EVERY_S:
            full = True
        before = sent.listeners
        await self._send(conversation_id, _frame(snapshot, message_id, sent, full, now), sent)
        if sent.listeners > before and not full:  # a worker joined: give it the whole text
            await self._send(conversation_id, _frame(snapshot, message_id, sent, True, now), sent)

    async def ended(
        self, conversation_id: str, generation_id: str, message_id: str, status: str
    ) -> None:
        self.forget(generation_id)
        if time.monotonic() >= self._down_until:
            data = {"g": generation_id, "m": message_id, "s": status, "x": 1}
            await self._send(conversation_id, data, _Sent())

    def forget(self, generation_id: str) -> None:
        self._sent.pop(generation_id, None)

    async def _send(self, conversation_id: str, data: dict[str, Any], sent: _Sent) -> int:
        try:
            payload = json.dumps(data, separators=(",", ":"))
            sent.listeners = await self._redis.publish(PREFIX + conversation_id, payload)
        except SHARED_ERRORS:  # Redis down: only other tabs' live view is lost, never the reply
            log.warning("live fan-out unavailable; other tabs update when the reply ends")
            self._down_until = time.monotonic() + 5.0
            return 0
        return sent.listeners

    # --- the watchers' side --------------------------------------------------------------

    async def _subscribe(self, conversation_id: str, channel: Channel) -> None:
        async with self._subscribing:
            try:
                await self._pubsub.subscribe(PREFIX + conversation_id)
                if self._listener is None or self._listener.done():
                    self._listener = asyncio.create_task(self._listen(), name="ai_chat-live")
            except SHARED_ERRORS:  # the watcher still ends the reply from the DB and lease
                log.warning("could not subscribe to live frames of %s", conversation_id)

    async def _unsubscribe(self, conversation_id: str) -> None:
        async with self._subscribing:
            if conversation_id in self._channels:
                return  # a watcher joined again meanwhile: it keeps the subscription
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(PREFIX + conversation_id)

    async def _listen(self) -> None:
        while self._channels:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except asyncio.CancelledError:
                raise
            except SHARED_ERRORS:  # the next first watcher starts a new listener
                log.warning("the live fan-out listener stopped")
                return
            if message and message.get("type") == "message":
                channel = self._channels.get(message["channel"].decode().removeprefix(PREFIX))
                if channel is not None:
                    apply(channel, json.loads(message["data"]))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        await self._redis.aclose()
        await self._sub_redis.aclose()
        await super().close()


def _head(snapshot: LiveSnapshot, message_id: str, offset: int) -> dict[str, Any]:
    return {
        "g": snapshot.generation_id,
        "m": message_id,
        "s": snapshot.status,
        "n": snapshot.output_tokens,
        "e": snapshot.elapsed_s,
        "o": offset,
        "t": "",
    }


def _frame(
    snapshot: LiveSnapshot, message_id: str, sent: _Sent, full: bool, now: float
) -> dict[str, Any]:
    text, thinking = snapshot.text, snapshot.thinking
    if full or len(text) < sent.text_len or len(thinking) < sent.thinking_len:
        full, sent.full_at = True, now
    offset = 0 if full else sent.text_len
    data = _head(snapshot, message_id, offset)
    data["t"] = text[offset:]
    if full or len(thinking) > sent.thinking_len:
        data["ho"] = 0 if full else sent.thinking_len
        data["h"] = thinking[data["ho"] :]
    sent.text_len, sent.thinking_len = len(text), len(thinking)
    return data


def apply(channel: Channel, data: dict[str, Any]) -> None:
    """A frame from Redis into this worker's channel: an end, a whole text, or what follows
    the text the channel has (anything else waits for the next whole text)."""
    if data.get("x"):
        channel.set(LiveFrame(data["g"], data["m"], "", data["s"], ended=True))
        return
    current = channel.frame
    same = current is not None and not current.ended and current.generation_id == data["g"]
    offset = data["o"]
    if offset == 0:
        text = data["t"]
    elif same and len(current.text) == offset:  # type: ignore[union-attr]
        text = current.text + data["t"]  # type: ignore[union-attr]
    else:
        return  # a probe, or a part whose start this worker missed
    thinking = current.thinking if same else ""  # type: ignore[union-attr]
    if "h" in data:
        ho = data["ho"]
        if ho and len(thinking) != ho:
            return
        thinking = thinking[:ho] + data["h"]
    channel.set(
        LiveFrame(data["g"], data["m"], text, data["s"], data["n"], data["e"], thinking=thinking)
    )
