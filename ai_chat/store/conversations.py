"""Owner-scoped queries. Every function takes the owner: accounts plug in here later."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.store.models import Conversation, Message, MessageStatus, Role, new_id, utcnow

# No temperature: API version 2026-10-21 (SDK 2.x) rejects sampling parameters with a 400.
SETTING_FIELDS = ("model", "system_prompt", "max_output_tokens", "thinking_budget")


class ConversationNotFound(LookupError):
    """No such conversation for this owner (never reveals other owners' ids)."""


async def create_conversation(
    session: AsyncSession, owner: str, title: str = "", settings: dict | None = None
) -> Conversation:
    conversation = Conversation(owner=owner, title=title[:200], **_settings_only(settings or {}))
    session.add(conversation)
    await session.flush()
    return conversation


def _settings_only(values: dict) -> dict:
    return {k: v for k, v in values.items() if k in SETTING_FIELDS}


async def update_settings(
    session: AsyncSession, owner: str, conversation_id: str, values: dict
) -> Conversation:
    conversation = await require_conversation(session, owner, conversation_id)
    for key, value in _settings_only(values).items():
        setattr(conversation, key, value)
    session.add(conversation)
    await session.flush()
    return conversation


async def get_conversation(
    session: AsyncSession, owner: str, conversation_id: str
) -> Conversation | None:
    result = await session.exec(
        select(Conversation).where(Conversation.id == conversation_id, Conversation.owner == owner)
    )
    return result.first()


async def require_conversation(
    session: AsyncSession, owner: str, conversation_id: str
) -> Conversation:
    conversation = await get_conversation(session, owner, conversation_id)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


async def list_messages(
    session: AsyncSession, owner: str, conversation_id: str
) -> Sequence[Message]:
    """All turns of an owner's conversation, in order."""
    await require_conversation(session, owner, conversation_id)
    result = await session.exec(
        select(Message).where(Message.conversation_id == conversation_id).order_by(col(Message.seq))
    )
    return result.all()


async def truncate_from(
    session: AsyncSession, owner: str, conversation_id: str, message_id: str
) -> int:
    """Remove a turn and every later one (edit & resend, regenerate). Returns how many."""
    await require_conversation(session, owner, conversation_id)
    seq = (
        await session.exec(
            select(Message.seq).where(
                Message.id == message_id, Message.conversation_id == conversation_id
            )
        )
    ).first()
    if seq is None:
        raise LookupError(f"no message {message_id} in this conversation")
    result = await session.exec(
        delete(Message).where(
            col(Message.conversation_id) == conversation_id, col(Message.seq) >= seq
        )
    )
    return result.rowcount or 0


async def _next_seq(session: AsyncSession, conversation_id: str) -> int:
    result = await session.exec(
        select(sa.func.max(Message.seq)).where(Message.conversation_id == conversation_id)
    )
    current = result.one()
    return 0 if current is None else int(current) + 1


async def add_user_message(
    session: AsyncSession,
    owner: str,
    conversation_id: str,
    content: str,
    message_id: str | None = None,
) -> Message:
    """Write the user's turn (before Claude is called) and touch the conversation."""
    conversation = await require_conversation(session, owner, conversation_id)
    message = Message(
        id=message_id or new_id(),
        conversation_id=conversation_id,
        seq=await _next_seq(session, conversation_id),
        role=Role.USER.value,
        content=content,
        status=MessageStatus.COMPLETE.value,
        completed_at=utcnow(),
    )
    # The conversation row is written once per turn, when the reply is saved (its recency);
    # here only for the first message, which names it.
    if not conversation.title:
        conversation.title = _title_from(content)
        conversation.updated_at = utcnow()
        session.add(conversation)
    session.add(message)
    await session.flush()
    return message


async def save_assistant_message(
    session: AsyncSession,
    owner: str,
    message: Message,
) -> Message:
    """Write an assistant turn once, when it has ended (complete, cancelled, failed)."""
    conversation = await require_conversation(session, owner, message.conversation_id)
    if not MessageStatus(message.status).is_final:
        raise ValueError(f"assistant turns are saved when final, not {message.status!r}")
    message.role = Role.ASSISTANT.value
    message.completed_at = message.completed_at or utcnow()
    conversation.updated_at = utcnow()
    session.add_all([message, conversation])
    await session.flush()
    return message


def _title_from(text: str, limit: int = 60) -> str:
    """A provisional title: the first line of the first message."""
    first_line = " ".join(text.strip().split())
    return first_line if len(first_line) <= limit else first_line[: limit - 1].rstrip() + "…"


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we write is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
