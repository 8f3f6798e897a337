"""Error mapping: each SDK/transport failure becomes a ReplyError a person can act on."""

from __future__ import annotations

import anthropic
import httpx2
import pytest

from ai_chat.llm.errors import classify, retry_after_seconds
from ai_chat.llm.stream import RetryPolicy

REQUEST = httpx2.Request("POST", "http://sim/v1/messages")


def status_error(status: int, kind: str, headers: dict[str, str] | None = None):
    body = {"type": "error", "error": {"type": kind, "message": "detail here"}}
    response = httpx2.Response(
        status, json=body, headers={"request-id": "req_1", **(headers or {})}, request=REQUEST
    )
    client = anthropic.Anthropic(api_key="x", base_url="http://sim")
    return client._make_status_error_from_response(response)


@pytest.mark.parametrize(
    ("status", "kind", "expected_kind", "words", "retryable"),
    [
        (401, "authentication_error", "auth", "ANTHROPIC_API_KEY", False),
        (403, "permission_error", "auth", "rejected the API key", False),
        (404, "not_found_error", "not_found", "'claude-x'", False),
        (413, "request_too_large", "too_large", "too large", False),
        (400, "invalid_request_error", "bad_request", "detail here", False),
        (429, "rate_limit_error", "rate_limited", "Try again in 12 s", True),
        (500, "api_error", "unavailable", "unavailable (500)", True),
        (529, "overloaded_error", "overloaded", "overloaded", True),
    ],
)
def test_http_errors(status, kind, expected_kind, words, retryable):
    exc = status_error(status, kind, {"retry-after": "12"} if status == 429 else None)
    error = classify(exc, model="claude-x", stall_timeout_s=60)
    assert error.kind == expected_kind
    assert words in error.message
    assert error.retryable is retryable
    assert error.request_id == "req_1"


def test_midstream_error_frame():
    exc = anthropic.APIStatusError(
        "overloaded",
        response=httpx2.Response(200, request=REQUEST),
        body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    error = classify(exc, model="m", stall_timeout_s=60)
    assert error.kind == "midstream_error" and "partial reply is kept" in error.message


def test_transport_errors():
    drop = classify(httpx2.RemoteProtocolError("peer closed"), model="m", stall_timeout_s=60)
    stall = classify(httpx2.ReadTimeout("slow"), model="m", stall_timeout_s=7)
    deadline = classify(TimeoutError(), model="m", stall_timeout_s=7)
    assert drop.kind == "connection"
    assert stall.kind == "stalled" and "7 s" in stall.message
    assert deadline.kind == "deadline"


def test_retry_after_parsing_prefers_milliseconds():
    assert retry_after_seconds(httpx2.Headers({"retry-after-ms": "1500"})) == 1.5
    assert retry_after_seconds(httpx2.Headers({"retry-after": "3"})) == 3.0
    assert retry_after_seconds(httpx2.Headers({"retry-after": "Wed, 21 Oct 2015"})) is None


def test_retry_policy_caps_waits_and_attempts():
    policy = RetryPolicy(max_retries=2, max_wait_s=5)
    rate = classify(
        status_error(429, "rate_limit_error", {"retry-after": "3"}), model="m", stall_timeout_s=1
    )
    assert policy.delay(1, rate) == 3.0
    assert policy.delay(3, rate) is None  # out of retries
    long_wait = classify(
        status_error(429, "rate_limit_error", {"retry-after": "3600"}), model="m", stall_timeout_s=1
    )
    assert policy.delay(1, long_wait) is None  # never sleep an hour
    auth = classify(status_error(401, "authentication_error"), model="m", stall_timeout_s=1)
    assert policy.delay(1, auth) is None
    overloaded = classify(status_error(529, "overloaded_error"), model="m", stall_timeout_s=1)
    assert 0 < policy.delay(2, overloaded) <= 5
