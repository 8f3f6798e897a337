"""Why a turn is refused, and when it can be sent again, in words a person can act on."""

from __future__ import annotations

import dataclasses
import math

KEEP = "Your text is still in the box."


@dataclasses.dataclass(frozen=True)
class Refusal:
    kind: str  # "messages_per_minute", "tokens_per_day", "concurrent_replies", "conversation_busy"
    message: str  # shown as is
    retry_after_s: float | None  # None: when a reply in progress ends (no fixed time)


def wait_words(seconds: float) -> str:
    """12 s, 4 min, 3 h 20 min: rounded up, so "now" is never promised too early."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def too_many_messages(limit: int, retry_after_s: float, window_s: int = 60) -> Refusal:
    noun = "message" if limit == 1 else "messages"
    period = "minute" if window_s == 60 else wait_words(window_s)
    return Refusal(
        "messages_per_minute",
        f"You've sent {limit} {noun} in the last {period}; you can send again in "
        f"{wait_words(retry_after_s)}. {KEEP}",
        retry_after_s,
    )


def out_of_tokens(limit: int, retry_after_s: float, window_s: int = 86_400) -> Refusal:
    if window_s == 86_400:
        allowance = f"daily {limit:,} tokens"
    else:
        allowance = f"{limit:,} tokens for {wait_words(window_s)}"
    return Refusal(
        "tokens_per_day",
        f"You've used your {allowance}; you can send again in {wait_words(retry_after_s)}. {KEEP}",
        retry_after_s,
    )


def too_many_replies(limit: int) -> Refusal:
    noun = "reply" if limit == 1 else "replies"
    return Refusal(
        "concurrent_replies",
        f"You already have {limit} {noun} in progress, the most at once; you can send again "
        f"when one of them ends (or stop one). {KEEP}",
        None,
    )


CONVERSATION_BUSY = Refusal(
    "conversation_busy",
    "Claude is still replying in this conversation (perhaps in another tab); you can send "
    f"again when that reply ends. {KEEP}",
    None,
)


def signin_wait_message(retry_after_s: float) -> str:
    return f"Too many failed sign-ins; try again in {wait_words(retry_after_s)}."
