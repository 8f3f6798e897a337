"""What the browser sees of a stored message: public fields only."""

from __future__ import annotations

import dataclasses

from ai_chat.store.conversations import as_utc
from ai_chat.store.models import Message


@dataclasses.dataclass
class ChatMessage:
    id: str
    role: str
    content: str
    status: str = "complete"
    error: str = ""
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    output_estimated: bool = False
    duration_s: float = 0.0


def to_view(message: Message) -> ChatMessage:
    created, completed = as_utc(message.created_at), as_utc(message.completed_at)
    duration = (completed - created).total_seconds() if created and completed else 0.0
    return ChatMessage(
        id=message.id,
        role=message.role,
        content=message.content,
        status=message.status,
        error=message.error or "",
        model=message.model or "",
        input_tokens=message.input_tokens or 0,
        output_tokens=message.output_tokens or 0,
        output_estimated=message.output_tokens_estimated,
        duration_s=round(max(0.0, duration), 1),
    )
