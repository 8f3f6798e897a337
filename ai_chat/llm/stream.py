"""One reply from Claude as an async iterator of `ReplyEvent`s.

Lifecycle: `async with aclosing(stream_reply(...)) as events` — leaving the block
(normally, on error, or by task cancellation) closes the HTTP response at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import aclosing
from typing import Any

import anthropic
import httpx2

from ai_chat.llm import network, sse
from ai_chat.llm.errors import ReplyError, classify
from ai_chat.llm.events import ReplyEvent, ReplyRetrying, TextDelta
from ai_chat.llm.frames import FrameParser


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
        backoff = self.base_backoff_s * 2.0 ** (attempt - 1)
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
    client: anthropic.AsyncAnthropic,
    request: ReplyRequest,
    policy: RetryPolicy,
    pace: Callable[[], Awaitable[None]] | None = None,
) -> AsyncGenerator[ReplyEvent, None]:
    """Yields ReplyRetrying before each wait to retry (if any), then ReplyStarted, then
    TextDelta / ThinkingDelta (and the other `events` as Claude sends them), then
    ReplyFinished; raises ReplyError on failure.

    The SDK sends the request (auth, headers, HTTP errors as its exception classes); the
    body is read with the lean `sse` decoder. Retries happen only while opening the
    stream (before any token), with waits capped by the policy. Once text has flowed
    nothing is retried. `pace` is awaited before each wait on the socket when the client
    runs on our network backend (`make_client` with `own_network`): a caller that only looks
    every so often lets chunks pile up in the kernel and reads them in one go. On httpx's
    stock transport `pace` is not called and every chunk is read as it arrives.
    """
    attempt = 0
    while True:
        manager = client.messages.with_streaming_response.create(
            **_request_kwargs(request), stream=True
        )
        try:
            response = await manager.__aenter__()
            break
        except Exception as exc:
            error = classify(exc, model=request.model, stall_timeout_s=policy.stall_timeout_s)
            attempt += 1
            delay = policy.delay(attempt, error)
            if delay is None:
                raise error from exc
        # Said before the wait (outside the except: nothing to keep alive while suspended).
        yield ReplyRetrying(attempt, policy.max_retries, delay, error.kind)
        await asyncio.sleep(delay)

    try:
        http = response.http_response
        stream = http.extensions.get("network_stream")
        chunked = http.headers.get("transfer-encoding", "").lower() == "chunked"
        async with (
            network.paced_reads(stream, pace, chunked),
            aclosing(_body(http)) as body,
        ):
            async for event in _events(body, http.headers, request.model):
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


def _body(http: httpx2.Response) -> AsyncGenerator[bytes, None]:
    """The response body, chunk by chunk. Every layer of httpx's `aiter_bytes` is one more
    async-generator step per chunk — per token, at 50 tokens/s — so when there is nothing to
    decode (event streams come uncompressed) read the transport's stream directly."""
    if http.headers.get("content-encoding", "identity") == "identity":
        return aiter(http.stream)  # type: ignore[arg-type]
    return http.aiter_bytes()


async def _events(
    chunks: AsyncIterator[bytes], headers: Mapping[str, str], model: str
) -> AsyncGenerator[ReplyEvent, None]:
    decoder = sse.SSEDecoder()
    parser = FrameParser(headers.get("request-id"), model)
    async for chunk in chunks:
        for event in _joined([parser.parse(kind, data) for kind, data in decoder.feed(chunk)]):
            yield event
    for event in _joined([parser.parse(kind, data) for kind, data in decoder.flush()]):
        yield event
    # Read to the end of the body (not `return` at message_stop), so the connection goes
    # back to the pool cleanly.
    if not parser.finished:  # the body ended without message_stop: the connection was cut
        raise ReplyError(
            "connection",
            "The connection to Claude ended before the reply was complete. "
            "The partial reply is kept; try again.",
            retryable=True,
        )


def _joined(events: list[ReplyEvent | None]) -> list[ReplyEvent]:
    """The events of one read, runs of text deltas joined into one: a paced read holds a
    push interval's tokens, and every event costs its consumer a step per token otherwise."""
    out: list[ReplyEvent] = []
    run: list[TextDelta] = []
    for event in events:
        if isinstance(event, TextDelta):
            run.append(event)
            continue
        if run:
            out.append(_join(run))
            run = []
        if event is not None:
            out.append(event)
    if run:
        out.append(_join(run))
    return out


def _join(run: list[TextDelta]) -> TextDelta:
    if len(run) == 1:
        return run[0]
    return TextDelta("".join(d.text for d in run), run[0].index, len(run))
