"""Owner-scoped queries. Every function takes the owner: accounts plug in here later."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.llm.titles import clean_title
from ai_chat.store.columns import as_utc as as_utc  # re-exported for its importers
from ai_chat.store.db import run_sync
from ai_chat.store.models import Conversation, Message
from ai_chat.store.text import clean_text

# No temperature: API version 2026-10-21 (SDK 2.x) rejects sampling parameters with a 400.
SETTING_FIELDS = ("model", "system_prompt", "max_output_tokens", "thinking_budget")
Settings = Mapping[str, object]  # per-conversation settings by field name


class ConversationNotFound(LookupError):
    """No such conversation for this owner (never reveals other owners' ids)."""


# The turn path's queries (here and in turns.py) are written once, as plain functions of a
# sync Session: the server runs them on SQLite over the standard driver (db.run_write /
# db.run_read), and async wrappers run the same code in an AsyncSession (PostgreSQL, tests,
# the UI's reads).

# The turn path's statements are built once, with bound parameters: composing a WHERE
# clause (operator overloads, coercions) cost more CPU than running it on SQLite, several
# times per turn. Executing a prebuilt statement only binds the values.
_CONVERSATION = select(Conversation).where(
    Conversation.id == sa.bindparam("p_cid"), Conversation.owner == sa.bindparam("p_owner")
)
# PostgreSQL: lock the row, so two turns sent at once into one conversation (two tabs)
# take the next seq one after the other. SQLite ignores it: its writes are serial.
_CONVERSATION_FOR_UPDATE = _CONVERSATION.with_for_update()
_MESSAGES = (
    select(Message)
    .where(Message.conversation_id == sa.bindparam("p_cid"))
    .order_by(col(Message.seq))
)


def create_conversation_sync(
    session: Session, owner: str, title: str = "", settings: Settings | None = None
) -> Conversation:
    conversation = Conversation(owner=owner, title=clean_text(title)[:200])
    for key, value in _settings_only(settings or {}).items():
        setattr(conversation, key, value)
    session.add(conversation)
    session.flush()
    return conversation


async def create_conversation(
    session: AsyncSession, owner: str, title: str = "", settings: Settings | None = None
) -> Conversation:
    return await run_sync(session, create_conversation_sync, owner, title, settings)


def _settings_only(values: Settings) -> dict[str, object]:
    # Text as every backend stores it (store/text.py): the system prompt is typed by a person.
    return {
        k: clean_text(v) if isinstance(v, str) else v
        for k, v in values.items()
        if k in SETTING_FIELDS
    }


async def update_settings(
    session: AsyncSession, owner: str, conversation_id: str, values: Settings
) -> Conversation:
    conversation = await require_conversation(session, owner, conversation_id)
    for key, value in _settings_only(values).items():
        setattr(conversation, key, value)
    session.add(conversation)
    await session.flush()
    return conversation


def get_conversation_sync(
    session: Session, owner: str, conversation_id: str, *, for_update: bool = False
) -> Conversation | None:
    query = _CONVERSATION_FOR_UPDATE if for_update else _CONVERSATION
    return session.exec(query, params={"p_cid": conversation_id, "p_owner": owner}).first()


async def get_conversation(
    session: AsyncSession, owner: str, conversation_id: str
) -> Conversation | None:
    return await run_sync(session, get_conversation_sync, owner, conversation_id)


def require_conversation_sync(
    session: Session, owner: str, conversation_id: str, *, for_update: bool = False
) -> Conversation:
    conversation = get_conversation_sync(session, owner, conversation_id, for_update=for_update)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


async def require_conversation(
    session: AsyncSession, owner: str, conversation_id: str
) -> Conversation:
    return await run_sync(session, require_conversation_sync, owner, conversation_id)


def list_messages_sync(session: Session, owner: str, conversation_id: str) -> Sequence[Message]:
    """All turns of an owner's conversation, in order."""
    require_conversation_sync(session, owner, conversation_id)
    return _messages(session, conversation_id)


def _messages(session: Session, conversation_id: str) -> Sequence[Message]:
    """The turns of a conversation already checked to be the owner's."""
    return session.exec(_MESSAGES, params={"p_cid": conversation_id}).all()


async def list_messages(
    session: AsyncSession, owner: str, conversation_id: str
) -> Sequence[Message]:
    return await run_sync(session, list_messages_sync, owner, conversation_id)


def truncate_from_sync(session: Session, owner: str, conversation_id: str, message_id: str) -> int:
    """Remove a turn and every later one (edit & resend, regenerate). Returns how many."""
    require_conversation_sync(session, owner, conversation_id)
    seq = session.exec(
        select(Message.seq).where(
            Message.id == message_id, Message.conversation_id == conversation_id
        )
    ).first()
    if seq is None:
        raise LookupError(f"no message {message_id} in this conversation")
    result = session.exec(
        delete(Message).where(
            col(Message.conversation_id) == conversation_id, col(Message.seq) >= seq
        )
    )
    return result.rowcount or 0


async def truncate_from(
    session: AsyncSession, owner: str, conversation_id: str, message_id: str
) -> int:
    return await run_sync(session, truncate_from_sync, owner, conversation_id, message_id)


def provisional_title(text: str, limit: int = 60) -> str:
    """A provisional title, until Claude names the conversation: the first message as one
    line of plain text (no Markdown, no simulator directives), shortened to `limit`."""
    return clean_title(text, limit)


def set_generated_title_sync(
    session: Session, owner: str, conversation_id: str, title: str, replaces: str
) -> bool:
    """Store a generated `title` if the conversation is still titled `replaces` (a rename
    meanwhile wins). Its recency (`updated_at`) is left alone: a title is not activity."""
    result = session.exec(
        sa.update(Conversation)
        .where(
            col(Conversation.id) == conversation_id,
            col(Conversation.owner) == owner,
            col(Conversation.title) == replaces,
        )
        .values(title=clean_text(title)[:200])
    )
    return bool(result.rowcount)


def claim_conversations(session: Session, from_owner: str, to_owner: str) -> int:
    """Every conversation of `from_owner` goes to `to_owner` (the single-user era's ones to
    the first admin); returns how many."""
    result = session.exec(
        sa.update(Conversation).where(col(Conversation.owner) == from_owner).values(owner=to_owner)
    )
    count: int = result.rowcount or 0
    return count
