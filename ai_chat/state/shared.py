"""Names the states, components and pages share; imports no state module, so any may use it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, cast

from reflex_base.event import EventSpec

from ai_chat.llm.catalog import model_info

COMPOSER_ID = "message"  # the composer's textarea: its form field and its DOM id
CONTINUE_PROMPT = "Please continue where you stopped."

# What an event handler hands back to Reflex: an event, a list of them, or nothing.
Events: TypeAlias = EventSpec | Sequence[EventSpec] | None


def event_of(handler: object, *args: Any) -> EventSpec:
    """`State.handler(*args)`: the event that runs `handler` next, as a handler returns it.
    Typed here once: Reflex types a decorated handler beyond what mypy can call."""
    return cast(Callable[..., EventSpec], handler)(*args)


def model_label(model_id: str) -> str:
    info = model_info(model_id)
    return info.label if info else model_id
