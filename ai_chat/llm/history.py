"""Builds the `messages` list sent to Claude from stored turns (never from the client).

The rule for turns left unanswered (README, "How conversations are sent to Claude"): a user
turn counts as answered only if the turn right after it is a reply with text (complete,
stopped, failed or interrupted part-way: its text is what Claude said). A user turn whose
reply is missing, empty (failed before any text, lost in a crash before the first
checkpoint) or never started is left out of what is sent, together with its empty reply,
and the tab shows it as "No reply" with Retry. It is never glued onto the next question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple


class Turn(NamedTuple):
    """A stored turn. A tuple, not a frozen dataclass: a turn builds one per prior message,
    and a frozen dataclass's `__init__` costs an `object.__setattr__` per field, which adds
    up over a long chat's history."""

    role: str  # "user" | "assistant"
    content: str
    status: str = "complete"


def has_text(turn: Turn) -> bool:
    return bool(turn.content.strip())


def unanswered(turns: Sequence[Turn]) -> list[bool]:
    """For each turn: True for a user turn with no reply text after it (the last turn
    included: its reply was lost or never started)."""
    flags = []
    for i, turn in enumerate(turns):
        following = turns[i + 1] if i + 1 < len(turns) else None
        answered = following is not None and following.role == "assistant" and has_text(following)
        flags.append(turn.role == "user" and not answered)
    return flags


def build_messages(
    previous_turns: Iterable[Turn], new_user_text: str, max_chars: int
) -> list[dict[str, str]]:
    """History snapshot (taken before the new turn was stored) + the new user message.

    - user turns left unanswered are left out (module docstring), and so are assistant
      turns with no text (the API rejects empty content);
    - two replies in a row (not written by this app) are merged so roles alternate;
    - the oldest turns are trimmed to fit `max_chars`, and the list always starts
      with a user turn as the API requires.
    """
    history = list(previous_turns)
    skipped = unanswered(history)
    messages: list[dict[str, str]] = []
    turns = [*history, Turn("user", new_user_text)]
    for turn, skip in zip(turns, [*skipped, False], strict=True):
        if skip or (turn.role == "assistant" and not has_text(turn)):
            continue
        text = turn.content.strip() if turn.role == "assistant" else turn.content
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"] += "\n\n" + text
        else:
            messages.append({"role": turn.role, "content": text})

    total = sum(len(m["content"]) for m in messages)
    while len(messages) > 1 and (total > max_chars or messages[0]["role"] != "user"):
        total -= len(messages.pop(0)["content"])
    return messages
