"""Maps every way a reply can fail to one `ReplyError` with a message a person can act on."""

from __future__ import annotations

import dataclasses
import math

import anthropic
import httpx2

from ai_chat.llm.sse import EventTooLarge

# HTTP statuses worth retrying before the first token (never after: that would replay text).
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclasses.dataclass
class ReplyError(Exception):
    """A failed reply. `message` is shown to the user as is."""

    kind: str
    message: str
    status_code: int | None = None
    retry_after_s: float | None = None
    request_id: str | None = None
    retryable: bool = False

    def __str__(self) -> str:
        return self.message


def retry_after_seconds(headers: httpx2.Headers | None) -> float | None:
    """Seconds from `retry-after-ms` / `retry-after` (numeric forms only)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) * scale)
            except ValueError:
                continue
    return None


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "in a minute"
    return f"in {math.ceil(seconds)} s"


def midstream_error(
    error_type: str | None, detail: str | None, request_id: str | None
) -> ReplyError:
    """An `error` frame after the stream opened (e.g. overloaded mid-reply)."""
    return ReplyError(
        "midstream_error",
        f"Claude reported an error mid-reply ({error_type or 'api_error'}: "
        f"{detail or 'no details'}). The partial reply is kept; try again.",
        status_code=200,
        request_id=request_id,
    )


def from_status_error(exc: anthropic.APIStatusError, model: str) -> ReplyError:
    status = exc.status_code
    detail = exc.api_message or ""
    retry_after = retry_after_seconds(exc.response.headers)

    def error(kind: str, message: str, retryable: bool = False) -> ReplyError:
        return ReplyError(
            kind,
            message,
            status_code=status,
            retry_after_s=retry_after,
            request_id=exc.request_id,
            retryable=retryable,
        )

    if status == 200:  # an `error` frame after the stream opened
        return midstream_error(exc.type, detail, exc.request_id)
    if status in (401, 403):
        return error(
            "auth",
            f"Claude rejected the API key ({status}). Check ANTHROPIC_API_KEY on the server.",
        )
    if status == 402:
        return error("billing", f"Claude refused for billing reasons: {detail}")
    if status == 404:
        return error(
            "not_found", f"Claude doesn't know the model {model!r} (404). Pick another model."
        )
    if status == 413:
        return error(
            "too_large",
            "The conversation is too large for Claude (413). Start a new chat or "
            "shorten your message.",
        )
    if status == 400:
        return error("bad_request", f"Claude rejected the request (400): {detail}")
    if status == 429:
        return error(
            "rate_limited",
            f"Rate limited by Claude. Try again {_when(retry_after)}.",
            retryable=True,
        )
    if status == 529:
        return error(
            "overloaded",
            f"Claude is overloaded right now. Try again {_when(retry_after)}.",
            retryable=True,
        )
    if status >= 500 or status in RETRYABLE_STATUSES:
        return error(
            "unavailable", f"Claude is unavailable ({status}). Try again shortly.", retryable=True
        )
    return error("api_error", f"Claude returned an error ({status}): {detail}")


def classify(exc: BaseException, *, model: str, stall_timeout_s: float) -> ReplyError:
    """Turn any exception from the SDK/transport into a ReplyError."""
    if isinstance(exc, ReplyError):
        return exc
    if isinstance(exc, anthropic.APIStatusError):
        return from_status_error(exc, model)
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return ReplyError(
            "stalled",
            f"Claude sent nothing for {stall_timeout_s:g} s, so the reply was "
            "abandoned. The partial reply is kept; try again.",
            retryable=True,
        )
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        return ReplyError(
            "connection",
            "The connection to Claude dropped. The partial reply is kept; try again.",
            retryable=True,
        )
    if isinstance(exc, EventTooLarge):
        return ReplyError(
            "event_too_large",
            f"Claude sent one stream event over {exc.limit // (1024 * 1024)} MiB, so the "
            "reply was stopped. The partial reply is kept.",
        )
    if isinstance(exc, TimeoutError):
        return ReplyError(
            "deadline", "The reply took too long and was stopped. The partial reply is kept."
        )
    return ReplyError("internal", f"Unexpected error while talking to Claude: {exc!r}")
