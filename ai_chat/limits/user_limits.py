"""One user's limits: the server defaults (AI_CHAT_LIMIT_*), each overridable per user."""

from __future__ import annotations

import dataclasses

from ai_chat.config import Settings, get_settings

FIELDS = ("messages_per_minute", "concurrent_replies", "tokens_per_day")


@dataclasses.dataclass(frozen=True)
class UserLimits:
    """0 means no limit."""

    messages_per_minute: int
    concurrent_replies: int
    tokens_per_day: int

    @classmethod
    def defaults(cls, settings: Settings | None = None) -> UserLimits:
        settings = settings or get_settings()
        return cls(
            messages_per_minute=settings.limit_messages_per_minute,
            concurrent_replies=settings.limit_concurrent_replies,
            tokens_per_day=settings.limit_tokens_per_day,
        )


UNLIMITED = UserLimits(0, 0, 0)


def limits_for(overrides: object | None, settings: Settings | None = None) -> UserLimits:
    """The limits of a user: each attribute of `overrides` (e.g. a `User` row) that is an
    int wins; a missing or None one is the server default. Negative values count as 0."""
    base = UserLimits.defaults(settings)
    if overrides is None:
        return base
    values = {}
    for name in FIELDS:
        value = getattr(overrides, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            values[name] = max(0, value)
    return dataclasses.replace(base, **values) if values else base
