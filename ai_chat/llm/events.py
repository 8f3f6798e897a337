"""Events a reply stream yields, decoupled from the SDK's own types."""

from __future__ import annotations

import dataclasses


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


ReplyEvent = ReplyStarted | TextDelta | ThinkingDelta | ReplyFinished
