"""A conversation as Markdown or JSON, from the stored turns (the DB is the truth)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from ai_chat.store.columns import as_utc
from ai_chat.store.models import Conversation, Message

_STATUS_NOTES = {
    "cancelled": "_(stopped by the user)_",
    "failed": "_(failed)_",
    "interrupted": "_(interrupted)_",
}


def to_markdown(conversation: Conversation, messages: Sequence[Message]) -> str:
    lines = [f"# {conversation.title or 'Conversation'}", ""]
    for message in messages:
        who = "You" if message.role == "user" else f"Claude ({message.model or 'unknown model'})"
        lines += [f"## {who}", "", message.content.rstrip() or "_(no text)_", ""]
        if note := _STATUS_NOTES.get(message.status):
            lines += [note + (f" {message.error}" if message.error else ""), ""]
    return "\n".join(lines).rstrip() + "\n"


def to_json(conversation: Conversation, messages: Sequence[Message]) -> str:
    def stamp(value: datetime | None) -> str | None:
        moment = as_utc(value)
        return moment.isoformat() if moment else None

    return json.dumps(
        {
            "id": conversation.id,
            "title": conversation.title,
            "created_at": stamp(conversation.created_at),
            "messages": [
                {
                    "id": m.id,
                    "role": m.role,
                    "content": m.content,
                    "status": m.status,
                    "model": m.model,
                    "stop_reason": m.stop_reason,
                    "error": m.error,
                    "usage": {
                        "input_tokens": m.input_tokens,
                        "output_tokens": m.output_tokens,
                        "output_tokens_estimated": m.output_tokens_estimated,
                        "cache_read_input_tokens": m.cache_read_input_tokens,
                        "cache_creation_input_tokens": m.cache_creation_input_tokens,
                    },
                    "created_at": stamp(m.created_at),
                    "completed_at": stamp(m.completed_at),
                }
                for m in messages
            ],
        },
        indent=2,
        ensure_ascii=False,
    )
