"""The in-flight reply, kept outside any tab's state.

A reloaded page, a second tab, or a crash checkpointer can reach it by generation
or conversation id; the tab's state only mirrors it at push time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from datetime import datetime

from ai_chat.llm.errors import ReplyError
from ai_chat.llm.events import (
    ReplyEvent,
    ReplyFinished,
    ReplyRetrying,
    ReplyStarted,
    TextDelta,
    ThinkingDelta,
)
from ai_chat.store.models import MessageStatus, utcnow
from ai_chat.store.text import clean_text

_HIGH_SURROGATE, _HIGH_SURROGATE_END = "\ud800", "\udbff"


def estimate_tokens(text: str) -> int:
    """~4 characters a token: used for a stopped reply, which has no final usage."""
    return math.ceil(len(text) / 4)


@dataclasses.dataclass(frozen=True)
class LiveSnapshot:
    """What a push shows: small and independent of the conversation's length."""

    generation_id: str
    text: str
    status: str
    output_tokens: int
    elapsed_s: float
    thinking: str = ""
    # An upstream retry in progress: "Retrying (attempt/retry_max)…"; 0 when none.
    retry_attempt: int = 0
    retry_max: int = 0

    def looks_like(self, other: LiveSnapshot) -> bool:
        """Whether the tab would show the same, but for the elapsed time."""
        return (self.text, self.status, self.output_tokens, self.thinking, self.retry_attempt) == (
            other.text,
            other.status,
            other.output_tokens,
            other.thinking,
            other.retry_attempt,
        )


@dataclasses.dataclass
class LiveReply:
    generation_id: str
    conversation_id: str
    message_id: str
    model: str
    status: MessageStatus = MessageStatus.THINKING
    request_id: str | None = None
    input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    output_tokens: int = 0
    usage_final: bool = False
    stop_reason: str | None = None
    error: ReplyError | None = None
    deltas: int = 0
    version: int = 0
    created_at: datetime = dataclasses.field(default_factory=utcnow)
    started_at: float = dataclasses.field(default_factory=time.monotonic)
    first_token_at: float | None = None
    thinking: str = ""
    retry_attempt: int = 0  # the upstream retry under way (0: none)
    retry_max: int = 0
    _parts: list[str] = dataclasses.field(default_factory=list)
    _text: str = ""
    _waiter: asyncio.Future[bool] | None = None

    @property
    def text(self) -> str:
        # Deltas are joined lazily, once per push rather than once per token, and cleaned
        # (store/text.py): a lone surrogate in a push would break the tab's socket for good.
        if self._parts:
            new = "".join(self._parts)
            self._parts.clear()
            if _HIGH_SURROGATE <= new[-1] <= _HIGH_SURROGATE_END and not self.status.is_final:
                self._parts.append(new[-1])  # a pair's first half: the next delta may end it
                new = new[:-1]
            self._text += clean_text(new)
        return self._text

    def apply(self, event: ReplyEvent) -> None:
        if isinstance(event, ReplyRetrying):
            self.retry_attempt, self.retry_max = event.attempt, event.max_retries
        elif isinstance(event, ReplyStarted):
            self.retry_attempt = 0  # the stream opened: no longer retrying
            self.request_id = event.request_id
            self.input_tokens = event.input_tokens
            self.cache_read_input_tokens = event.cache_read_input_tokens
            self.cache_creation_input_tokens = event.cache_creation_input_tokens
        elif isinstance(event, TextDelta):
            if event.index != self.deltas:  # the SDK never does this; guard the invariant
                raise RuntimeError(f"delta {event.index} out of order (expected {self.deltas})")
            self._parts.append(event.text)
            self.deltas += event.count
            self.output_tokens += event.count  # refined by message_delta's cumulative count
            if self.first_token_at is None:
                self.first_token_at = time.monotonic()
                self.status = MessageStatus.STREAMING
        elif isinstance(event, ThinkingDelta):
            self.thinking += clean_text(event.text)  # small next to the answer; joined eagerly
            self.output_tokens += 1
        elif isinstance(event, ReplyFinished):
            self.stop_reason = event.stop_reason
            self.output_tokens = event.output_tokens
            self.usage_final = True
        self._touch()

    def finish(self, status: MessageStatus, error: ReplyError | None = None) -> None:
        self.status = status
        self.error = error
        if not self.usage_final:
            estimate = estimate_tokens(self.text) + estimate_tokens(self.thinking)
            self.output_tokens = max(self.output_tokens, estimate)
        self._touch()

    def _touch(self) -> None:
        self.version += 1
        if self._waiter is not None:
            _resolve(self._waiter, True)

    async def wait_for_change(self, since: int, timeout: float) -> bool:
        """True once `version` moved past `since`; False after `timeout` of silence.
        A bare future and timer: this runs once per push, so no task per wait."""
        if self.version > since:
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(timeout, _resolve, waiter, False)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def snapshot(self) -> LiveSnapshot:
        return LiveSnapshot(
            generation_id=self.generation_id,
            text=self.text,
            status=self.status.value,
            output_tokens=self.output_tokens,
            elapsed_s=round(time.monotonic() - self.started_at, 1),
            thinking=self.thinking,
            retry_attempt=self.retry_attempt,
            retry_max=self.retry_max,
        )


def _resolve(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


class LiveReplies:
    """Registry of this process's in-flight replies."""

    def __init__(self) -> None:
        self._by_generation: dict[str, LiveReply] = {}

    def add(self, reply: LiveReply) -> None:
        self._by_generation[reply.generation_id] = reply

    def remove(self, generation_id: str) -> None:
        self._by_generation.pop(generation_id, None)

    def get(self, generation_id: str) -> LiveReply | None:
        return self._by_generation.get(generation_id)

    def for_conversation(self, conversation_id: str) -> LiveReply | None:
        for reply in self._by_generation.values():
            if reply.conversation_id == conversation_id:
                return reply
        return None

    def __len__(self) -> int:
        return len(self._by_generation)
