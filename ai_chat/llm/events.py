"""Events a reply stream yields, decoupled from the SDK's own types.

The chat uses the reply's start, its text, its thinking and its end. Tool calls, their results,
citations and thinking signatures are parsed too (`frames`), so that what Claude sent is never
dropped unseen; a consumer that has no use for them ignores them.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class ReplyStarted:
    """Claude accepted the request (HTTP 200, message_start received)."""

    request_id: str | None
    model: str
    input_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


@dataclasses.dataclass(frozen=True)
class TextDelta:
    """A piece of answer text: `count` consecutive deltas read together, joined; `index`
    numbers the first of them, so gaps and duplicates are detectable."""

    text: str
    index: int
    count: int = 1


@dataclasses.dataclass(frozen=True)
class ThinkingDelta:
    """Extended thinking, streamed before the answer and shown apart from it."""

    text: str


@dataclasses.dataclass(frozen=True)
class ReplyFinished:
    """message_stop: the final stop reason and cumulative output tokens."""

    stop_reason: str | None
    output_tokens: int


@dataclasses.dataclass(frozen=True)
class ReplyRetrying:
    """Opening the stream failed with a retryable error (overloaded, rate limited …): retry
    `attempt` of `max_retries` starts after `wait_s`. Yielded before the wait, so the
    reader can say so instead of showing a silent "thinking"."""

    attempt: int
    max_retries: int
    wait_s: float
    reason: str = ""  # the ReplyError's kind


@dataclasses.dataclass(frozen=True)
class ThinkingSignature:
    """The signature that ends a thinking block (`signature_delta`): sent back with the
    block when a conversation continues after a tool call."""

    block: int
    signature: str


@dataclasses.dataclass(frozen=True)
class RedactedThinking:
    """A thinking block the safety systems encrypted (`redacted_thinking`)."""

    block: int
    data: str


@dataclasses.dataclass(frozen=True)
class ToolCall:
    """A complete tool call, at its block's end: `kind` is `tool_use` (a client tool),
    `server_tool_use` (e.g. web search, run by the API) or `mcp_tool_use`. `input` is the
    streamed `input_json_delta`s parsed (None if they don't parse; `input_json` keeps them)."""

    block: int
    kind: str
    id: str
    name: str
    input: Any
    input_json: str


@dataclasses.dataclass(frozen=True)
class ToolResult:
    """A server tool's result block (`web_search_tool_result` and the other
    `*_tool_result` blocks), which arrives whole in its `content_block_start`."""

    block: int
    kind: str
    tool_use_id: str
    content: Any


@dataclasses.dataclass(frozen=True)
class Citation:
    """A citation of the text block `block` (`citations_delta`), as the API sent it."""

    block: int
    citation: dict[str, Any]


ReplyEvent = (
    ReplyStarted
    | TextDelta
    | ThinkingDelta
    | ReplyFinished
    | ReplyRetrying
    | ThinkingSignature
    | RedactedThinking
    | ToolCall
    | ToolResult
    | Citation
)
