"""A user's usage: tokens by model since a moment (their replies, in their conversations)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from ai_chat.store.models import Conversation, Message, Role


@dataclasses.dataclass(frozen=True)
class ModelUsage:
    model: str
    replies: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


def usage_since(session: Session, owner: str, since: datetime) -> list[ModelUsage]:
    query = (
        sa.select(
            col(Message.model),
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(Message.input_tokens), 0),
            sa.func.coalesce(sa.func.sum(Message.output_tokens), 0),
            sa.func.coalesce(sa.func.sum(Message.cache_read_input_tokens), 0),
            sa.func.coalesce(sa.func.sum(Message.cache_creation_input_tokens), 0),
        )
        .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
        .where(
            col(Conversation.owner) == owner,
            col(Message.role) == Role.ASSISTANT.value,
            col(Message.created_at) >= since,
        )
        .group_by(col(Message.model))
    )
    rows = session.connection().execute(query).all()
    return [ModelUsage(model or "", *(int(n or 0) for n in numbers)) for model, *numbers in rows]
