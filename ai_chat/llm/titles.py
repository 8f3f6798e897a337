"""Conversation titles: the cleaning every title goes through, and the small request that
asks Claude for one after a conversation's first reply.

Pure functions plus one call through the `anthropic` client the caller leases; no Reflex,
no database (generation/titles.py runs the job, store/conversations.py stores the result).
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store imports the cleaning, not the SDK
    import anthropic

MAX_TITLE_CHARS = 60
TITLE_MAX_TOKENS = 20
# How much of the first message and of the first reply the request carries: enough to name
# the topic, little enough that a title costs a fraction of the reply.
PROMPT_MESSAGE_CHARS = 2000
PROMPT_REPLY_CHARS = 600
# The simulator recognises a title request by this exact system prompt (simulator/titles.py).
TITLE_SYSTEM_PROMPT = (
    "You name conversations. Reply with a short title (at most 6 words) for the "
    "conversation below: plain text, no quotes, no Markdown, no trailing punctuation. "
    "Reply with the title only."
)
MESSAGE_OPEN, MESSAGE_CLOSE = "<message>", "</message>"

_DIRECTIVE = re.compile(r"\[\[sim\b[^\]]*\]\]")  # the simulator's test directives
_FENCE = re.compile(r"```[^\n]*\n?|~~~[^\n]*\n?")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]{0,200}>")
_LINE_MARK = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,3}[.)]\s+)", re.MULTILINE)
# Emphasis opens and closes at a word's edge: snake_case and 2*3*4 are left alone.
_EMPHASIS = re.compile(r"(?<!\w)(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1(?!\w)")
_STRAY_MARKS = re.compile(r"`+|\|+|~~+|(?<!\w)\*+|\*+(?!\w)")
_PREFIX = re.compile(r"^(?:title|conversation title)\s*[:\-–—]\s*", re.IGNORECASE)
_QUOTES = "\"'“”‘’«»„`"
_TRAILING = " .,:;!-–—"


def clean_title(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """One line of plain text, at most `limit` characters: no Markdown, HTML tags, quotes
    around it, simulator directives, a "Title:" prefix or line breaks. "" when nothing is left."""
    text = _DIRECTIVE.sub(" ", text)
    text = _FENCE.sub(" ", text)
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _LINE_MARK.sub("", text)
    for _ in range(3):  # nested emphasis (***bold italic***)
        text = _EMPHASIS.sub(r"\2", text)
    text = _STRAY_MARKS.sub(" ", text)
    text = " ".join(text.split())  # newlines, tabs and runs of spaces: one space
    text = _PREFIX.sub("", text)
    text = text.strip(_QUOTES + " ").rstrip(_TRAILING).strip(_QUOTES + " ")
    if len(text) > limit:
        cut = text[: limit - 1]
        if " " in cut[limit // 2 :]:
            cut = cut[: cut.rfind(" ")]  # at a word boundary when one is near the end
        text = cut.rstrip(_TRAILING) + "…"
    return text


def title_prompt(first_message: str, first_reply: str) -> str:
    """The title request's one user message: the conversation's opening, each part cleaned
    of directives (a `[[sim error=…]]` in the chat must not make the title request fail)."""
    message = _DIRECTIVE.sub("", first_message).strip()[:PROMPT_MESSAGE_CHARS]
    reply = first_reply.strip()[:PROMPT_REPLY_CHARS]
    return f"{MESSAGE_OPEN}\n{message}\n{MESSAGE_CLOSE}\n<reply>\n{reply}\n</reply>"


@dataclasses.dataclass(frozen=True)
class TitleResult:
    title: str  # cleaned; "" when Claude gave nothing usable
    billed_tokens: int  # input + cache writes + output, as a reply's are counted


async def request_title(
    client: anthropic.AsyncAnthropic,
    model: str,
    first_message: str,
    first_reply: str,
    timeout_s: float = 20.0,
) -> TitleResult:
    """One non-streaming request for a title (raises what the SDK raises)."""
    response = await client.with_options(max_retries=0, timeout=timeout_s).messages.create(
        model=model,
        max_tokens=TITLE_MAX_TOKENS,
        system=TITLE_SYSTEM_PROMPT,
        messages=[{"role": "user", "content": title_prompt(first_message, first_reply)}],
    )
    text = "".join(getattr(block, "text", "") for block in response.content)
    usage = response.usage
    billed = usage.input_tokens + (usage.cache_creation_input_tokens or 0) + usage.output_tokens
    return TitleResult(clean_title(text), billed)
