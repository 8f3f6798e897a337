"""What every table module shares: ids, UTC timestamps and their column type.

A leaf: it imports no other table module, so `models` and `users` (which `models` imports
to register the account tables) both build on it without importing each other.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import overload

import sqlalchemy as sa

# Timezone-aware timestamps on every backend (SQLite stores them as text).
TIMESTAMP = sa.DateTime(timezone=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we write is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
