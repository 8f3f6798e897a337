"""Builds the `messages` list sent to Claude from stored turns (never from the client)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class Turn(NamedTuple):
    """A stored turn. A tuple, not a frozen dataclass: a turn builds one per prior message,
    and a frozen dataclass's `__init__` (an `object.__setattr__` per field) was a few ms of
    a turn at 500 prior turns."""

    role: str  # "user" | "assistant"
    content: str
    status: str = "complete"


def build_messages(
    previous_turns: Iterable[Turn], new_user_text: str, max_chars: int
) -> list[dict[str, str]]:
    """History snapshot (taken before the new turn was stored) + the new user message.

    - assistant turns with no text (failed before any token) are dropped: the API
      rejects empty content;
    - consecutive same-role turns are merged so roles alternate;
    - the oldest turns are trimmed to fit `max_chars`, and the list always starts
      with a user turn as the API requires.
    """
    messages: list[dict[str, str]] = []
    for turn in [*previous_turns, Turn("user", new_user_text)]:
        text = turn.content.strip() if turn.role == "assistant" else turn.content
        if not text.strip():
            continue
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"] += "\n\n" + text
        else:
            messages.append({"role": turn.role, "content": text})

    total = sum(len(m["content"]) for m in messages)
    while len(messages) > 1 and (total > max_chars or messages[0]["role"] != "user"):
        total -= len(messages.pop(0)["content"])
    return messages
