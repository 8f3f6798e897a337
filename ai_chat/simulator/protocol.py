"""Anthropic Messages wire format: ids, SSE frames, error bodies, token estimates, ASGI replies."""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .options import ERROR_TYPES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SSE_CONTENT_TYPE = b"text/event-stream; charset=utf-8"
JSON_CONTENT_TYPE = b"application/json"

# Default messages per error type, worded like the real API's.
ERROR_MESSAGES: dict[str, str] = {
    "invalid_request_error": "Invalid request (simulated)",
    "authentication_error": "invalid x-api-key (simulated)",
    "billing_error": "Your credit balance is too low (simulated)",
    "permission_error": "Your API key does not have permission to use this resource (simulated)",
    "not_found_error": "Not found (simulated)",
    "request_too_large": "Request exceeds the maximum allowed number of bytes (simulated)",
    "rate_limit_error": "Number of requests has exceeded your rate limit (simulated)",
    "api_error": "Internal server error (simulated)",
    "timeout_error": "Request timed out (simulated)",
    "overloaded_error": "Overloaded",
}


def new_request_id() -> str:
    return f"req_sim_{secrets.token_hex(12)}"


def new_message_id() -> str:
    return f"msg_sim_{secrets.token_hex(12)}"


def dumps(data: Any) -> bytes:
    # Compact and UTF-8, as the API sends it.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def sse_frame(data: dict[str, Any]) -> bytes:
    """One SSE frame; the `event:` line repeats the JSON type (the SDK drops frames without it)."""
    kind: str = data["type"]
    return b"event: " + kind.encode() + b"\ndata: " + dumps(data) + b"\n\n"


_DELTA_FRAME = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,'
    b'"delta":{"type":"%s","%s":%s}}\n\n'
)


def delta_frame(index: int, kind: str, field: str, text: str) -> bytes:
    """`sse_frame` of a content_block_delta, byte for byte, from a template: one per token,
    at hundreds of streams the simulator's CPU is shared with the app it measures."""
    literal = json.dumps(text, ensure_ascii=False).encode()
    return _DELTA_FRAME % (index, kind.encode(), field.encode(), literal)


def error_body(error_type: str, message: str | None, request_id: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "error",
        "error": {"type": error_type, "message": message or ERROR_MESSAGES[error_type]},
    }
    if request_id is not None:
        body["request_id"] = request_id
    return body


def error_type_for(status: int) -> str:
    # Unlisted statuses (e.g. 405) fall back by class, as the API's would.
    return ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")


def retry_after_value(seconds: float) -> bytes:
    """`retry-after` header value: whole seconds when possible (the SDK also parses floats)."""
    return (str(int(seconds)) if seconds == int(seconds) else f"{seconds:g}").encode()


def content_text(content: Any) -> str:
    """The text of a message's `content` (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b["text"]
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        )
    return ""


def last_user_text(messages: Any) -> str:
    """Text of the last message with role "user" ("" if none); directives are read from it."""
    if not isinstance(messages, list):
        return ""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return content_text(msg.get("content"))
    return ""


def _chars(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_chars(v) for v in value)
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return len(value["text"])
        if "content" in value:
            return _chars(value["content"])
        source = value.get("source")
        if isinstance(source, dict) and isinstance(source.get("data"), str):
            if source.get("type") == "text":  # a text document: its characters
                return len(source["data"])
            # ≈1,600 tokens an image; a PDF's text and page images ≈ a twelfth of its base64.
            return 6400 if value.get("type") == "image" else len(source["data"]) // 12 * 4
        return len(json.dumps(value))  # tool blocks: something proportional
    return 0


def estimate_input_tokens(messages: Any, system: Any) -> int:
    """≈ characters / 4 over messages and system, at least 1 (like a real, non-empty prompt)."""
    return max(1, math.ceil((_chars(messages) + _chars(system)) / 4))


# --- plain ASGI replies -------------------------------------------------------------------


def base_headers(request_id: str, content_type: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", content_type), (b"request-id", request_id.encode())]


async def send_json(
    send: Send,
    status: int,
    data: Any,
    request_id: str,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = dumps(data)
    headers = base_headers(request_id, JSON_CONTENT_TYPE)
    headers.append((b"content-length", str(len(body)).encode()))
    headers.extend(extra_headers or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_error(
    send: Send,
    status: int,
    request_id: str,
    message: str | None = None,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = error_body(error_type_for(status), message, request_id)
    await send_json(send, status, body, request_id, extra_headers)
