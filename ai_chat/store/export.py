"""A conversation as Markdown or JSON, from the stored turns (the DB is the truth)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ai_chat.store.columns import as_utc
from ai_chat.store.models import Attachment, Conversation, Message

Files = Mapping[str, Sequence[Attachment]]  # a message's attachments by its id

_STATUS_NOTES = {
    "cancelled": "_(stopped by the user)_",
    "failed": "_(failed)_",
    "interrupted": "_(interrupted)_",
}


def _size(size: int) -> str:
    if size < 1000:
        return f"{size:,} bytes"
    return f"{size / 1000:,.0f} KB" if size < 1_000_000 else f"{size / 1_000_000:,.1f} MB"


def _file_lines(attachments: Sequence[Attachment]) -> list[str]:
    """A Markdown list of a message's files (each name as code: no link, no markup)."""
    lines = []
    for a in attachments:
        name = a.filename.replace("`", "'")
        lines.append(f"- Attached: `{name}` ({a.media_type}, {_size(a.size)})")
    return [*lines, ""] if lines else []


def _file_fields(attachments: Sequence[Attachment]) -> list[dict[str, Any]]:
    return [
        {"filename": a.filename, "media_type": a.media_type, "kind": a.kind, "size": a.size}
        for a in attachments
    ]


def to_markdown(
    conversation: Conversation, messages: Sequence[Message], files: Files | None = None
) -> str:
    """The conversation as Markdown; `files`: each message's attachments, listed under it."""
    files = files or {}
    lines = [f"# {conversation.title or 'Conversation'}", ""]
    for message in messages:
        who = "You" if message.role == "user" else f"Claude ({message.model or 'unknown model'})"
        attached = files.get(message.id, ())
        text = message.content.rstrip() or ("" if attached else "_(no text)_")
        lines += [f"## {who}", "", *([text, ""] if text else []), *_file_lines(attached)]
        if note := _STATUS_NOTES.get(message.status):
            lines += [note + (f" {message.error}" if message.error else ""), ""]
    return "\n".join(lines).rstrip() + "\n"


def to_json(
    conversation: Conversation, messages: Sequence[Message], files: Files | None = None
) -> str:
    """The conversation as JSON; `files`: each message's attachments (name, type, size)."""
    files = files or {}

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
                    "attachments": _file_fields(files.get(m.id, ())),
                }
                for m in messages
            ],
        },
        indent=2,
        ensure_ascii=False,
    )
