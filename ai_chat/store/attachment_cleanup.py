"""Attachments deleted: with their conversation, unsent ones after a day, and the blobs no
attachment names any more (as file or preview)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ai_chat.store.models import Attachment, AttachmentBlob, Message


def _drop_unnamed_blobs(session: Session, shas: Iterable[str]) -> None:
    """Blobs among `shas` that no attachment names any more (as file or preview)."""
    candidates = sorted(set(shas))
    if not candidates:
        return
    named = select(Attachment.sha256).where(col(Attachment.sha256).in_(candidates))
    thumbs = select(Attachment.thumb_sha256).where(col(Attachment.thumb_sha256).in_(candidates))
    used = {sha for sha in session.exec(named).all()} | {
        sha for sha in session.exec(thumbs).all() if sha
    }
    unused = [sha for sha in candidates if sha not in used]
    if unused:
        session.exec(sa.delete(AttachmentBlob).where(col(AttachmentBlob.sha256).in_(unused)))


def delete_where(session: Session, condition: sa.ColumnElement[bool]) -> int:
    rows = session.exec(select(Attachment.sha256, Attachment.thumb_sha256).where(condition)).all()
    if not rows:
        return 0
    session.exec(sa.delete(Attachment).where(condition))
    _drop_unnamed_blobs(session, [s for row in rows for s in row if s])
    return len(rows)


def delete_for_conversation_sync(session: Session, conversation_id: str) -> int:
    """A deleted conversation's files (before its messages go), and blobs left unnamed."""
    ids = select(Message.id).where(Message.conversation_id == conversation_id)
    return delete_where(session, col(Attachment.message_id).in_(ids.scalar_subquery()))


def unsent_count_sync(session: Session, owner: str) -> int:
    query = (
        select(sa.func.count())
        .select_from(Attachment)
        .where(Attachment.owner == owner, col(Attachment.message_id).is_(None))
    )
    return int(session.exec(query).one())


def sweep_unsent_sync(session: Session, older_than: datetime) -> int:
    """Uploads never sent (a tab closed before Send) older than `older_than`."""
    condition = sa.and_(
        col(Attachment.message_id).is_(None), col(Attachment.created_at) < older_than
    )
    return delete_where(session, condition)
