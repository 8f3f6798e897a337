"""The limits service: one per worker process, shared by all its turns."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from limits.aio.storage import SlidingWindowCounterSupport

from ai_chat.config import Settings, get_settings
from ai_chat.limits.backend import Backend, Limiters, Window, window
from ai_chat.limits.refusal import (
    CONVERSATION_BUSY,
    Refusal,
    out_of_tokens,
    too_many_messages,
    too_many_replies,
)
from ai_chat.limits.signin import SigninThrottle
from ai_chat.limits.slots import Claim, ReplySlots
from ai_chat.limits.user_limits import UserLimits

# Recording tokens never refuses (the reply has happened): it counts against this amount,
# under the same key as the user's own limit (keys don't include the amount).
RECORD_ANY = 10**15


class Refused(Exception):
    """Raised by `Quotas.reply_slot` when the reply may not start."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def sliding_retry_after(
    limit: int,
    window_s: float,
    previous: int,
    previous_ttl: float,
    current: int,
    current_ttl: float,
) -> float:
    """Seconds until a sliding-window count drops below `limit` if nothing more is counted.

    The count is `previous * previous_ttl / window_s + current`: the previous window's count
    weighs less as the current window runs out (`previous_ttl` is what is left of it), and
    when it ends the current count becomes the previous one."""
    if current < limit:
        if not previous:
            return 0.0
        return max(0.0, previous_ttl - (limit - current) * window_s / previous)
    ends_in = previous_ttl if previous else max(0.0, current_ttl - window_s)
    return ends_in + window_s * (1 - limit / current)


async def _sliding_counts(
    lim: Limiters, item: Window, user_id: str
) -> tuple[int, float, int, float]:
    """(previous count, what is left of it in s, current count, current TTL in s)."""
    storage = lim.sliding.storage
    assert isinstance(storage, SlidingWindowCounterSupport)
    return await storage.get_sliding_window(item.key_for(user_id), item.get_expiry())


class Quotas:
    """Messages per minute, tokens per day, replies at once (per user and per
    conversation), failed sign-ins. Shared through Redis when `redis_url` is set.

    Redis down (unreachable, or slower than 0.5 s): no limit fails closed (refusing every
    send, or every sign-in, because a counter is unreachable would take the app down with
    Redis) and none fails fully open: each falls back to this worker's memory, logged once
    per outage, retrying Redis every 5 s. So during an outage:
    - messages per minute, replies at once per user: held per worker (at most workers ×
      the limit), which still bounds a script hammering the app;
    - one reply per conversation: held per worker; two workers could then each run one
      (the store keeps both replies in order: it was built for two tabs);
    - tokens per day: effectively open, as the day's count is in Redis; the other limits
      still bound the spend, and it is counted again once Redis is back;
    - failed sign-ins: counted per worker, so guessing stays bounded (workers × the limit
      per 15 min) without locking everyone out.
    A slot taken in Redis and not released (its worker died, or Redis went away meanwhile)
    frees itself when its lease ends.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        redis_url: str | None = None,
        key_prefix: str = "ai_chat:limits",
        message_window_s: int = 60,
        token_window_s: int = 86_400,
        signin_window_s: int = 900,
        lease_s: float | None = None,
    ) -> None:
        settings = settings or get_settings()
        url = settings.redis_url if redis_url is None else redis_url
        self.shared = bool(url)
        self.key_prefix = key_prefix
        self.message_window_s = message_window_s
        self.token_window_s = token_window_s
        self.backend = Backend(url, key_prefix, settings.limits_sweep_throttle)
        # A reply's slots last as long as its lease (`reply_lease_s`): when its worker dies,
        # the retry the recovered reply offers is not refused for longer than that.
        lease = settings.reply_lease_s if lease_s is None else lease_s
        self.slots = ReplySlots(url, self.backend.breaker, lease)
        self.signin = SigninThrottle(
            self.backend,
            settings.limit_signin_per_account,
            settings.limit_signin_per_address,
            signin_window_s,
        )

    # -- a turn: admitted before its user turn is stored, settled when its reply ends --

    async def admit(
        self,
        user_id: str,
        generation_id: str,
        limits: UserLimits,
        conversation_id: str | None = None,
    ) -> Refusal | None:
        """Takes the reply's slots, then counts the message; None: go ahead (and call
        `release_reply` when the reply ends). The slots come first, so a send refused for
        them doesn't count as a message."""
        refusal = await self.acquire_reply(user_id, generation_id, limits, conversation_id)
        if refusal is None:
            refusal = await self.check_send(user_id, limits)
            if refusal is not None:
                await self.release_reply(generation_id)
        return refusal

    async def check_send(self, user_id: str, limits: UserLimits) -> Refusal | None:
        """Counts a message against the minute's limit and checks the day's tokens."""
        checks = []
        if limits.tokens_per_day:
            checks.append(self._tokens_left)
        if limits.messages_per_minute:
            checks.append(self._take_message)
        if not checks:
            return None

        async def op(lim: Limiters) -> Refusal | None:
            # One after the other: out of tokens, no message is counted. (At once saves
            # no time: redis-py's CPU per command, not the round trip, is most of it.)
            for check in checks:
                if (refusal := await check(lim, user_id, limits)) is not None:
                    return refusal
            return None

        return await self.backend.run("messages and tokens", op)

    async def _take_message(
        self, lim: Limiters, user_id: str, limits: UserLimits
    ) -> Refusal | None:
        item = window(limits.messages_per_minute, self.message_window_s, "messages")
        if await lim.moving.hit(item, user_id):
            return None
        stats = await lim.moving.get_window_stats(item, user_id)
        wait = max(1.0, stats.reset_time - time.time())
        return too_many_messages(limits.messages_per_minute, wait, self.message_window_s)

    async def _tokens_left(self, lim: Limiters, user_id: str, limits: UserLimits) -> Refusal | None:
        item = window(limits.tokens_per_day, self.token_window_s, "tokens")
        if await lim.sliding.test(item, user_id):
            return None
        counts = await _sliding_counts(lim, item, user_id)
        wait = max(1.0, sliding_retry_after(item.amount, item.get_expiry(), *counts))
        return out_of_tokens(limits.tokens_per_day, wait, self.token_window_s)

    async def record_tokens(self, user_id: str, limits: UserLimits, tokens: int) -> None:
        """Counts a reply's tokens. Recorded even while `limits` has no token limit, so
        that a limit set later (or `tokens_used`) sees them."""
        del limits  # the count is the same whatever the limit
        if tokens <= 0:
            return
        item = window(RECORD_ANY, self.token_window_s, "tokens")

        async def op(lim: Limiters) -> None:
            await lim.sliding.hit(item, user_id, cost=tokens)

        await self.backend.run("recording tokens", op)

    async def tokens_used(self, user_id: str) -> int:
        """Tokens counted in the last day (the sliding window's estimate), for a usage page."""
        item = window(RECORD_ANY, self.token_window_s, "tokens")

        async def op(lim: Limiters) -> int:
            previous, previous_ttl, current, _ = await _sliding_counts(lim, item, user_id)
            return int(previous * previous_ttl / item.get_expiry() + current)

        return await self.backend.run("reading token usage", op)

    # -- replies at once --

    def _user_key(self, user_id: str) -> str:
        return f"{self.key_prefix}:replies:user:{user_id}"

    def _conversation_key(self, conversation_id: str) -> str:
        return f"{self.key_prefix}:replies:conversation:{conversation_id}"

    async def acquire_reply(
        self,
        user_id: str,
        generation_id: str,
        limits: UserLimits,
        conversation_id: str | None = None,
    ) -> Refusal | None:
        """Takes a slot among the user's `concurrent_replies` and the conversation's one."""
        claims: list[Claim] = []
        if conversation_id:
            claims.append((self._conversation_key(conversation_id), 1))
        if limits.concurrent_replies:
            claims.append((self._user_key(user_id), limits.concurrent_replies))
        full = await self.slots.acquire(generation_id, claims)
        if not full:
            return None
        if conversation_id and full == 1:
            return CONVERSATION_BUSY
        return too_many_replies(limits.concurrent_replies)

    async def hold_conversation(self, generation_id: str, conversation_id: str) -> bool:
        """A reply that created its conversation takes the conversation's slot too, as soon
        as the id exists. False if another reply has it already."""
        return not await self.slots.acquire(
            generation_id, [(self._conversation_key(conversation_id), 1)]
        )

    async def release_reply(self, generation_id: str) -> None:
        """Frees the reply's slots; safe to call twice, or for a reply that took none."""
        await self.slots.release(generation_id)

    @contextlib.asynccontextmanager
    async def reply_slot(
        self,
        user_id: str,
        generation_id: str,
        limits: UserLimits,
        conversation_id: str | None = None,
    ) -> AsyncIterator[None]:
        """`async with`: the reply's slots, or `Refused`."""
        refusal = await self.acquire_reply(user_id, generation_id, limits, conversation_id)
        if refusal is not None:
            raise Refused(refusal)
        try:
            yield
        finally:
            await self.release_reply(generation_id)

    # -- sign-in --

    async def signin_blocked(self, username: str, address: str) -> float | None:
        """Seconds to wait before this account or address may try again, or None."""
        return await self.signin.blocked(username, address)

    async def signin_failed(self, username: str, address: str) -> None:
        await self.signin.failed(username, address)

    async def signin_succeeded(self, username: str, address: str) -> None:
        """Clears the account's failures (the address's stay)."""
        await self.signin.succeeded(username, address)

    async def close(self) -> None:
        await self.slots.close()
        await self.backend.close()
