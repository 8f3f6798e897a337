"""The simulator's answer to a title request (llm/titles.py), recognised by its system
prompt: a title made from the user's first message, so tests can predict it.

The rule: the message's first `TITLE_WORDS` words (letters, digits and the punctuation
inside a word) as typed, wrapped in quotes as a model sometimes does (the app's cleaning
takes them off). "Conversation" when the message has no word."""

from __future__ import annotations

import re
from typing import Any

# The app's (ai_chat/llm/titles.py), copied: the simulator imports nothing of the app, and
# tests/simulator/test_titles.py checks the copies match.
TITLE_SYSTEM_PROMPT = (
    "You name conversations. Reply with a short title (at most 6 words) for the "
    "conversation below: plain text, no quotes, no Markdown, no trailing punctuation. "
    "Reply with the title only."
)
MESSAGE_OPEN, MESSAGE_CLOSE = "<message>", "</message>"
TITLE_WORDS = 5
_WORD = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")


def is_title_request(system: Any) -> bool:
    """The request's system prompt (a string or text blocks) is the app's title prompt."""
    if isinstance(system, list):
        system = "".join(b.get("text", "") for b in system if isinstance(b, dict))
    return isinstance(system, str) and system == TITLE_SYSTEM_PROMPT


def expected_title(first_message: str) -> str:
    """The title the app shows for a conversation the simulator named (quotes removed)."""
    words = _WORD.findall(first_message)[:TITLE_WORDS]
    if not words:
        return "Conversation"
    return " ".join(words)


def title_reply(prompt: str) -> str:
    """The reply text to a title request whose user message is `prompt`."""
    start, end = prompt.find(MESSAGE_OPEN), prompt.find(MESSAGE_CLOSE)
    message = prompt[start + len(MESSAGE_OPEN) : end] if 0 <= start < end else prompt
    return f'"{expected_title(message)}"'
