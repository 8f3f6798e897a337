"""One reply from Claude as an async iterator of `ReplyEvent`s.

Lifecycle: `async with aclosing(stream_reply(...)) as events` — leaving the block
(normally, on error, or by task cancellation) closes the HTTP response at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from typing import Any

import anthropic

from ai_chat.llm.errors import ReplyError, classify
from ai_chat.llm.events import ReplyEvent, ReplyFinished, ReplyStarted, TextDelta, ThinkingDelta


@dataclasses.dataclass(frozen=True)
class ReplyRequest:
    model: str
    messages: list[dict[str, Any]]
    max_tokens: int
    system: str | None = None  # kept byte-stable across turns so the cache prefix holds
    thinking_budget: int | None = None
    prompt_cache: bool = True  # top-level cache_control: multi-turn chats re-read the prefix


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    max_wait_s: float = 10.0  # never sleep longer than this on a retry-after
    base_backoff_s: float = 0.5
    stall_timeout_s: float = 60.0

    def delay(self, attempt: int, error: ReplyError) -> float | None:
        """Seconds to wait before retry `attempt` (1-based), or None: give up."""
        if not error.retryable or attempt > self.max_retries:
            return None
        if error.retry_after_s is not None:
            return error.retry_after_s if error.retry_after_s <= self.max_wait_s else None
        backoff = self.base_backoff_s * 2 ** (attempt - 1)
        return min(self.max_wait_s, backoff * (0.75 + random.random() / 2))


def _request_kwargs(request: ReplyRequest) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": request.model,
        "messages": request.messages,
        "max_tokens": request.max_tokens,
    }
    if request.system:
        kwargs["system"] = request.system
    if request.thinking_budget:
        # The API wants max_tokens above the thinking budget.
        kwargs["thinking"] = {"type": "enabled", "budget_tokens": request.thinking_budget}
        kwargs["max_tokens"] = max(request.max_tokens, request.thinking_budget + 1024)
    if request.prompt_cache:
        kwargs["cache_control"] = {"type": "ephemeral"}
    return kwargs


async def stream_reply(
    client: anthropic.AsyncAnthropic, request: ReplyRequest, policy: RetryPolicy
) -> AsyncIterator[ReplyEvent]:
    """Yields ReplyStarted, TextDelta*, ReplyFinished; raises ReplyError on failure.

    Retries happen only while opening the stream (before any token), with waits
    capped by the policy. Once text has flowed nothing is retried.
    """
    attempt = 0
    while True:
        manager = client.messages.stream(**_request_kwargs(request))
        try:
            stream = await manager.__aenter__()
        except Exception as exc:
            error = classify(exc, model=request.model, stall_timeout_s=policy.stall_timeout_s)
            attempt += 1
            delay = policy.delay(attempt, error)
            if delay is None:
                raise error from exc
            await asyncio.sleep(delay)
            continue
        break

    try:
        async for event in _events(stream, request.model):
            yield event
    except (anthropic.APIError, OSError, ValueError) as exc:
        raise classify(exc, model=request.model, stall_timeout_s=policy.stall_timeout_s) from exc
    except Exception as exc:
        if type(exc).__module__.startswith("httpx"):
            raise classify(
                exc, model=request.model, stall_timeout_s=policy.stall_timeout_s
            ) from exc
        raise
    finally:
        # Closes the HTTP response now, also when we are being cancelled.
        await manager.__aexit__(None, None, None)


async def _events(stream: Any, model: str) -> AsyncIterator[ReplyEvent]:
    index = 0
    output_tokens = 0
    stop_reason: str | None = None
    finished = False
    async for event in stream:
        kind = event.type
        if kind == "message_start":
            usage = event.message.usage
            output_tokens = usage.output_tokens or 0
            yield ReplyStarted(
                request_id=getattr(stream, "request_id", None) or _request_id(stream),
                model=event.message.model or model,
                input_tokens=usage.input_tokens or 0,
                cache_read_input_tokens=usage.cache_read_input_tokens or 0,
                cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            )
        elif kind == "content_block_delta" and event.delta.type == "text_delta":
            if event.delta.text:
                yield TextDelta(event.delta.text, index)
                index += 1
        elif kind == "content_block_delta" and event.delta.type == "thinking_delta":
            if event.delta.thinking:
                yield ThinkingDelta(event.delta.thinking)
        elif kind == "message_delta":
            stop_reason = event.delta.stop_reason
            output_tokens = event.usage.output_tokens or output_tokens
        elif kind == "message_stop":
            finished = True
            yield ReplyFinished(stop_reason=stop_reason, output_tokens=output_tokens)
    # Read to the end of the body (not `return` at message_stop): an abandoned SDK iterator
    # would be closed later by the garbage collector, with an "exception ignored" warning.
    if finished:
        return
    # The body ended without message_stop: the connection was cut.
    raise ReplyError(
        "connection",
        "The connection to Claude ended before the reply was complete. "
        "The partial reply is kept; try again.",
        retryable=True,
    )


def _request_id(stream: Any) -> str | None:
    response = getattr(stream, "response", None)
    return response.headers.get("request-id") if response is not None else None
