"""The sidebar's queries: list, search, rename, delete — always within one owner's data."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.store import attachment_cleanup
from ai_chat.store.conversations import require_conversation
from ai_chat.store.db import run_sync
from ai_chat.store.models import Conversation, Message
from ai_chat.store.text import clean_text

MAX_TITLE = 200


@dataclasses.dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    updated_at: datetime


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_conversations(
    session: AsyncSession, owner: str, query: str = "", limit: int = 50, offset: int = 0
) -> list[ConversationSummary]:
    """Newest activity first; `query` matches the title or any message text (case-insensitive)."""
    statement = select(Conversation.id, Conversation.title, Conversation.updated_at).where(
        Conversation.owner == owner
    )
    query = clean_text(query).strip()  # a NUL or lone surrogate can't even be a parameter
    if query:
        pattern = f"%{_escape_like(query)}%"
        in_messages = (
            select(Message.id)
            .where(Message.conversation_id == Conversation.id)
            .where(col(Message.content).ilike(pattern, escape="\\"))
            .exists()
        )
        statement = statement.where(
            sa.or_(col(Conversation.title).ilike(pattern, escape="\\"), in_messages)
        )
    statement = (
        statement.order_by(col(Conversation.updated_at).desc(), col(Conversation.id))
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.exec(statement)).all()
    return [ConversationSummary(id=r[0], title=r[1], updated_at=r[2]) for r in rows]


async def rename_conversation(
    session: AsyncSession, owner: str, conversation_id: str, title: str
) -> Conversation:
    title = " ".join(clean_text(title).split())[:MAX_TITLE]
    if not title:
        raise ValueError("A title can't be empty.")
    conversation = await require_conversation(session, owner, conversation_id)
    conversation.title = title
    session.add(conversation)
    await session.flush()
    return conversation


async def delete_conversation(session: AsyncSession, owner: str, conversation_id: str) -> None:
    await require_conversation(session, owner, conversation_id)
    # Its files first (they name its messages), and the blobs no other file names.
    await run_sync(session, attachment_cleanup.delete_for_conversation_sync, conversation_id)
    await session.exec(delete(Message).where(col(Message.conversation_id) == conversation_id))
    await session.exec(delete(Conversation).where(col(Conversation.id) == conversation_id))
