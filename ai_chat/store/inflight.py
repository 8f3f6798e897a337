"""Replies in flight: their rows' checkpoints and leases, and the recovery of those whose
worker is gone.

A reply's row is written when its turn starts, with `lease_until` (turns.py). Its worker
renews the lease with each checkpoint (at most one a second, all of a worker's replies in
one transaction); the row's end clears it. A lease that has passed means nobody is writing
that reply any more: it is stored as interrupted with the text it had. Every write here is
guarded by the lease, so an ended reply is never overwritten by a late checkpoint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from ai_chat.store.conversations import require_conversation_sync
from ai_chat.store.models import Message, MessageStatus
from ai_chat.store.text import clean_text

_T: sa.Table = Message.__table__  # type: ignore[attr-defined]  # set by SQLModel, undeclared
_IN_FLIGHT = _T.c.lease_until.isnot(None)


@dataclasses.dataclass(frozen=True, slots=True)
class Checkpoint:
    """A reply's state as a checkpoint carries it. With `append`, `text` and `thinking` are
    what came since the last checkpoint (the row has the rest): a second's worth, not the
    whole reply, each time."""

    message_id: str
    text: str
    thinking: str
    status: str
    output_tokens: int
    append: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class InFlight:
    """A row in flight whose lease has passed (or, by conversation, any row in flight)."""

    id: str
    conversation_id: str
    content: str
    thinking: str
    output_tokens: int | None
    lease_until: datetime | None


def _checkpoint(append: bool) -> sa.Update:
    content: sa.BindParameter[Any] = sa.bindparam("v_content")
    thinking: sa.BindParameter[Any] = sa.bindparam("v_thinking")
    return (
        sa.update(_T)
        .where(_T.c.id == sa.bindparam("p_id"), _IN_FLIGHT)
        .values(
            content=_T.c.content + content if append else content,
            thinking=_T.c.thinking + thinking if append else thinking,
            status=sa.bindparam("v_status"),
            output_tokens=sa.bindparam("v_tokens"),
            output_tokens_estimated=True,
            lease_until=sa.bindparam("v_lease"),
        )
    )


_CHECKPOINT, _CHECKPOINT_APPEND = _checkpoint(False), _checkpoint(True)
_RENEW = (
    sa.update(_T)
    .where(_T.c.id.in_(sa.bindparam("p_ids", expanding=True)), _IN_FLIGHT)
    .values(lease_until=sa.bindparam("v_lease"))
)
_COLUMNS = (
    _T.c.id,
    _T.c.conversation_id,
    _T.c.content,
    _T.c.thinking,
    _T.c.output_tokens,
    _T.c.lease_until,
)
_EXPIRED = (
    sa.select(*_COLUMNS)
    .where(_IN_FLIGHT, _T.c.lease_until < sa.bindparam("p_now"))
    .order_by(_T.c.lease_until)
    .limit(sa.bindparam("p_limit"))
)
_OF_CONVERSATION = sa.select(*_COLUMNS).where(
    _T.c.conversation_id == sa.bindparam("p_cid"), _IN_FLIGHT
)
_LEASE = sa.select(_T.c.lease_until, _T.c.status).where(_T.c.id == sa.bindparam("p_id"))
_INTERRUPT = (
    sa.update(_T)
    .where(
        _T.c.id == sa.bindparam("p_id"),
        _IN_FLIGHT,
        _T.c.lease_until < sa.bindparam("p_now"),
    )
    .values(
        status=MessageStatus.INTERRUPTED.value,
        content=sa.bindparam("v_content"),
        thinking=sa.bindparam("v_thinking"),
        output_tokens=sa.bindparam("v_tokens"),
        output_tokens_estimated=True,
        error=sa.bindparam("v_error"),
        completed_at=sa.bindparam("p_now"),
        lease_until=None,
    )
)


def checkpoint_sync(
    session: Session,
    checkpoints: Sequence[Checkpoint],
    renew: Sequence[str],
    lease_until: datetime,
) -> None:
    """The text so far of each reply, and the leases of those and of `renew` (replies with
    nothing new): at most three statements for all of a worker's replies."""
    for append in (False, True):
        rows = [
            {
                "p_id": c.message_id,
                "v_content": clean_text(c.text),
                "v_thinking": clean_text(c.thinking),
                "v_status": c.status,
                "v_tokens": c.output_tokens,
                "v_lease": lease_until,
            }
            for c in checkpoints
            if c.append is append
        ]
        if rows:
            session.connection().execute(_CHECKPOINT_APPEND if append else _CHECKPOINT, rows)
    renew_sync(session, renew, lease_until)


def renew_sync(session: Session, message_ids: Sequence[str], lease_until: datetime) -> None:
    """Only the leases (the text is checkpointed elsewhere, or has not changed)."""
    if message_ids:
        session.connection().execute(_RENEW, {"p_ids": list(message_ids), "v_lease": lease_until})


def expired_sync(session: Session, now: datetime, limit: int = 500) -> list[InFlight]:
    """Rows in flight whose lease has passed, oldest first (an indexed range scan)."""
    rows = session.connection().execute(_EXPIRED, {"p_now": now, "p_limit": limit})
    return [InFlight(*row) for row in rows]


def in_flight_of_sync(session: Session, owner: str, conversation_id: str) -> list[InFlight]:
    """The owner's conversation's rows in flight (whatever their lease)."""
    require_conversation_sync(session, owner, conversation_id)
    rows = session.connection().execute(_OF_CONVERSATION, {"p_cid": conversation_id})
    return [InFlight(*row) for row in rows]


def lease_sync(session: Session, message_id: str) -> tuple[datetime | None, str] | None:
    """(lease_until, status) of a message, None if there is no such row."""
    row = session.connection().execute(_LEASE, {"p_id": message_id}).first()
    return None if row is None else (row.lease_until, row.status)


def interrupt_sync(
    session: Session,
    rows: Sequence[tuple[str, str, str, int]],  # id, text, thinking, output tokens
    now: datetime,
    error: str,
) -> int:
    """Store replies whose worker is gone as interrupted, with the text they had; only
    those whose lease is still passed (a renewed lease or their end wins). How many."""
    if not rows:
        return 0
    params = [
        {
            "p_id": message_id,
            "p_now": now,
            "v_content": clean_text(text),
            "v_thinking": clean_text(thinking),
            "v_tokens": tokens,
            "v_error": error,
        }
        for message_id, text, thinking, tokens in rows
    ]
    done = 0
    for one in params:  # one by one: executemany's rowcount isn't reliable on every driver
        done += session.connection().execute(_INTERRUPT, one).rowcount or 0
    return done
