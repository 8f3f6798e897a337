"""Owner-scoped queries. Every function takes the owner: accounts plug in here later."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.store.models import (
    Conversation,
    Message,
    MessageRow,
    MessageStatus,
    Role,
    new_id,
    utcnow,
)

# No temperature: API version 2026-10-21 (SDK 2.x) rejects sampling parameters with a 400.
SETTING_FIELDS = ("model", "system_prompt", "max_output_tokens", "thinking_budget")


class ConversationNotFound(LookupError):
    """No such conversation for this owner (never reveals other owners' ids)."""


# The turn path's queries are written once, as plain functions of a sync Session: the
# server runs them on SQLite in a worker thread (db.run_write / db.run_read), and the async
# wrappers below run the same code in an AsyncSession (PostgreSQL, tests, the UI's reads).

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
# A turn's history, as plain rows: all it is used for is what Claude is sent and the next
# seq, and loading every prior turn as an ORM object (identity map, instrumented state) cost
# ~20 µs a message on each turn: on SQLite ~20 ms of a worker's loop at 500 prior turns.
_MESSAGE_TABLE: sa.Table = Message.__table__  # type: ignore[attr-defined]
_HISTORY = (
    sa.select(*(_MESSAGE_TABLE.c[name] for name in ("seq", "role", "content", "status")))
    .where(_MESSAGE_TABLE.c.conversation_id == sa.bindparam("p_cid"))
    .order_by(_MESSAGE_TABLE.c.seq)
)
_LAST_SEQ = select(sa.func.max(Message.seq)).where(Message.conversation_id == sa.bindparam("p_cid"))
# A turn's end dates its conversation: one UPDATE, whose row count also says it exists. It
# and the message INSERT below run on the session's connection, outside the ORM: neither
# row is loaded in the session, and the ORM's unit of work was a third of a turn's store CPU.
_TOUCH = (
    sa.update(Conversation)
    .where(Conversation.id == sa.bindparam("p_cid"), Conversation.owner == sa.bindparam("p_owner"))
    .values(updated_at=sa.bindparam("p_now"))
)
_INSERT_MESSAGE = sa.insert(_MESSAGE_TABLE)
_MESSAGE_COLUMNS = tuple(column.name for column in _MESSAGE_TABLE.columns)
# What the turn path writes (a row) or a caller built (the ORM model): the same columns.
AnyMessage = TypeVar("AnyMessage", Message, MessageRow)


def _insert_message(session: Session, message: AnyMessage) -> AnyMessage:
    values = {name: getattr(message, name) for name in _MESSAGE_COLUMNS}
    session.connection().execute(_INSERT_MESSAGE, values)
    return message


def create_conversation_sync(
    session: Session, owner: str, title: str = "", settings: dict | None = None
) -> Conversation:
    conversation = Conversation(owner=owner, title=title[:200], **_settings_only(settings or {}))
    session.add(conversation)
    session.flush()
    return conversation


async def create_conversation(
    session: AsyncSession, owner: str, title: str = "", settings: dict | None = None
) -> Conversation:
    return await session.run_sync(create_conversation_sync, owner, title, settings)


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


def get_conversation_sync(
    session: Session, owner: str, conversation_id: str, *, for_update: bool = False
) -> Conversation | None:
    query = _CONVERSATION_FOR_UPDATE if for_update else _CONVERSATION
    return session.exec(query, params={"p_cid": conversation_id, "p_owner": owner}).first()


async def get_conversation(
    session: AsyncSession, owner: str, conversation_id: str
) -> Conversation | None:
    return await session.run_sync(get_conversation_sync, owner, conversation_id)


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
    return await session.run_sync(require_conversation_sync, owner, conversation_id)


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
    return await session.run_sync(list_messages_sync, owner, conversation_id)


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
    return await session.run_sync(truncate_from_sync, owner, conversation_id, message_id)


def _next_seq(session: Session, conversation_id: str) -> int:
    current = session.exec(_LAST_SEQ, params={"p_cid": conversation_id}).one()
    return 0 if current is None else int(current) + 1


def add_user_message_sync(
    session: Session,
    owner: str,
    conversation_id: str,
    content: str,
    message_id: str | None = None,
) -> MessageRow:
    """Write the user's turn (before Claude is called) and touch the conversation."""
    conversation = require_conversation_sync(session, owner, conversation_id, for_update=True)
    return _add_user_message(
        session, conversation, _next_seq(session, conversation_id), content, message_id
    )


def _add_user_message(
    session: Session, conversation: Conversation, seq: int, content: str, message_id: str | None
) -> MessageRow:
    message = MessageRow(
        id=message_id or new_id(),
        conversation_id=conversation.id,
        seq=seq,
        role=Role.USER.value,
        content=content,
        status=MessageStatus.COMPLETE.value,
        completed_at=utcnow(),
    )
    # The conversation row is written once per turn, when the reply is saved (its recency);
    # here only for the first message, which names it.
    if not conversation.title:
        conversation.title = provisional_title(content)
        conversation.updated_at = utcnow()
        session.add(conversation)
    return _insert_message(session, message)


async def add_user_message(
    session: AsyncSession,
    owner: str,
    conversation_id: str,
    content: str,
    message_id: str | None = None,
) -> MessageRow:
    return await session.run_sync(
        add_user_message_sync, owner, conversation_id, content, message_id
    )


def save_assistant_message_sync(session: Session, owner: str, message: AnyMessage) -> AnyMessage:
    """Write an assistant turn once, when it has ended (complete, cancelled, failed)."""
    if not MessageStatus(message.status).is_final:
        raise ValueError(f"assistant turns are saved when final, not {message.status!r}")
    now = utcnow()
    params = {"p_cid": message.conversation_id, "p_owner": owner, "p_now": now}
    if not session.connection().execute(_TOUCH, params).rowcount:
        raise ConversationNotFound(message.conversation_id)
    message.role = Role.ASSISTANT.value
    message.completed_at = message.completed_at or now
    return _insert_message(session, message)


async def save_assistant_message(
    session: AsyncSession, owner: str, message: AnyMessage
) -> AnyMessage:
    return await session.run_sync(save_assistant_message_sync, owner, message)


def _history(session: Session, conversation_id: str) -> Sequence[sa.Row]:
    """The turns of a conversation checked to be the owner's: rows of seq, role, content and
    status, in order."""
    return session.connection().execute(_HISTORY, {"p_cid": conversation_id}).all()


def history_sync(
    session: Session, owner: str, conversation_id: str
) -> tuple[Conversation, Sequence[sa.Row]]:
    conversation = require_conversation_sync(session, owner, conversation_id)
    return conversation, _history(session, conversation_id)


def start_turn_sync(
    session: Session,
    owner: str,
    conversation_id: str | None,
    user_text: str,
    user_message_id: str | None,
    replace_from_message_id: str | None = None,
    new_conversation_settings: dict | None = None,
) -> tuple[Conversation, Sequence[sa.Row], MessageRow]:
    """The user's turn: in a new conversation (`conversation_id` None) or replacing a turn
    and all later ones. Returns the conversation, the history before this turn (what
    Claude is sent besides it, so the user text reaches Claude once), and the stored turn.
    The conversation is read once, locked (PostgreSQL) before its turns are: the next seq is
    then the last listed one's successor."""
    if conversation_id is None:
        conversation = create_conversation_sync(session, owner, settings=new_conversation_settings)
    else:
        conversation = require_conversation_sync(session, owner, conversation_id, for_update=True)
    if replace_from_message_id:
        truncate_from_sync(session, owner, conversation.id, replace_from_message_id)
    previous = _history(session, conversation.id) if conversation_id is not None else []
    seq = previous[-1].seq + 1 if previous else 0
    user_message = _add_user_message(session, conversation, seq, user_text, user_message_id)
    return conversation, previous, user_message


def provisional_title(text: str, limit: int = 60) -> str:
    """A provisional title: the first line of the first message."""
    first_line = " ".join(text.strip().split())
    return first_line if len(first_line) <= limit else first_line[: limit - 1].rstrip() + "…"


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we write is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
