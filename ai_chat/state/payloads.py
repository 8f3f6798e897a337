"""Checks for what an event brings: any socket can call a handler with any payload.

Each returns the value in the expected shape, or None when it isn't (the handler then
answers with `malformed()` and changes nothing). Text comes back cleaned (store/text.py): a
lone surrogate would otherwise reach the database or the next push and fail there."""

from __future__ import annotations

import re
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.store.text import clean_text

ID = re.compile(r"^[0-9a-f]{32}$")


def text(value: object, max_chars: int) -> str | None:
    """A string of at most `max_chars` characters."""
    if not isinstance(value, str) or len(value) > max_chars:
        return None
    return clean_text(value)


def entity_id(value: object) -> str | None:
    """A conversation or message id (32 lowercase hex digits)."""
    return value if isinstance(value, str) and ID.match(value) else None


def form(value: object) -> dict[str, Any] | None:
    """A submitted form: a dict of strings (and booleans, for switches)."""
    if not isinstance(value, dict) or len(value) > 20:
        return None
    if not all(isinstance(k, str) and isinstance(v, str | bool) for k, v in value.items()):
        return None
    return {k: clean_text(v) if isinstance(v, str) else v for k, v in value.items()}


def malformed() -> EventSpec:
    return rx.toast.error(
        "That request was malformed and was ignored. Reload the page if it persists."
    )
