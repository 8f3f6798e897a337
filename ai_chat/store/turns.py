"""The turn path's writes: the user's turn and its reply in flight before Claude is asked
(one transaction), the reply updated once it ended.

The reply's row is written with its question, at the seq right after it, "thinking" and
with a lease (store/inflight.py): a crash leaves it there to be recovered as interrupted.
A user turn never takes the seq right after another user turn (one without its reply's
row, e.g. from before replies were written at the start): two tabs sending into one
conversation at once each get their question and reply side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.store.conversations import (
    ConversationNotFound,
    Settings,
    create_conversation_sync,
    provisional_title,
    require_conversation_sync,
    truncate_from_sync,
)
from ai_chat.store.db import run_sync
from ai_chat.store.models import (
    Conversation,
    Message,
    MessageRow,
    MessageStatus,
    Role,
    new_id,
    utcnow,
)
from ai_chat.store.text import clean_optional, clean_text

# The statements are built once, with bound parameters (see conversations.py).
# A turn's history, as plain rows: all it is used for is what Claude is sent and the next
# seq, and loading every prior turn as an ORM object (identity map, instrumented state)
# would cost per prior message on every turn, on the worker's event loop with SQLite.
_MESSAGE_TABLE: sa.Table = Message.__table__  # type: ignore[attr-defined]  # set by SQLModel, undeclared
_HISTORY = (
    sa.select(*(_MESSAGE_TABLE.c[name] for name in ("seq", "role", "content", "status")))
    .where(_MESSAGE_TABLE.c.conversation_id == sa.bindparam("p_cid"))
    .order_by(_MESSAGE_TABLE.c.seq)
)
_LAST_TURN = (
    sa.select(_MESSAGE_TABLE.c.seq, _MESSAGE_TABLE.c.role)
    .where(_MESSAGE_TABLE.c.conversation_id == sa.bindparam("p_cid"))
    .order_by(_MESSAGE_TABLE.c.seq.desc())
    .limit(1)
)
# A turn's end dates its conversation: one UPDATE, whose row count also says it exists. It
# and the message INSERT below run on the session's connection, outside the ORM: neither
# row is loaded in the session, and the ORM's unit of work would add to every turn's write.
_TOUCH = (
    sa.update(Conversation)
    .where(
        col(Conversation.id) == sa.bindparam("p_cid"),
        col(Conversation.owner) == sa.bindparam("p_owner"),
    )
    .values(updated_at=sa.bindparam("p_now"))
)
_INSERT_MESSAGE = sa.insert(_MESSAGE_TABLE)
TurnRow = sa.Row[*tuple[Any, ...]]  # a row of message columns, read by name
_MESSAGE_COLUMNS = tuple(column.name for column in _MESSAGE_TABLE.columns)
# What the turn path writes (a row) or a caller built (the ORM model): the same columns.
AnyMessage = TypeVar("AnyMessage", Message, MessageRow)


def _insert_message(session: Session, message: AnyMessage) -> AnyMessage:
    # Text any backend can store (store/text.py), also in the returned row: the tab shows
    # what was stored.
    message.content = clean_text(message.content)
    message.thinking = clean_text(message.thinking)
    message.error = clean_optional(message.error)
    values = {name: getattr(message, name) for name in _MESSAGE_COLUMNS}
    session.connection().execute(_INSERT_MESSAGE, values)
    return message


def _insert_messages(session: Session, *messages: MessageRow) -> None:
    rows = []
    for message in messages:
        message.content = clean_text(message.content)
        message.thinking = clean_text(message.thinking)
        message.error = clean_optional(message.error)
        rows.append({name: getattr(message, name) for name in _MESSAGE_COLUMNS})
    session.connection().execute(_INSERT_MESSAGE, rows)


def user_seq_after(last: TurnRow | None) -> int:
    """The seq of a user turn after `last` (seq, role): a user turn's successor is kept for
    its reply."""
    if last is None:
        return 0
    seq: int = last.seq
    return seq + (2 if last.role == Role.USER.value else 1)


def _last_turn(session: Session, conversation_id: str) -> TurnRow | None:
    return session.connection().execute(_LAST_TURN, {"p_cid": conversation_id}).first()


def add_user_message_sync(
    session: Session,
    owner: str,
    conversation_id: str,
    content: str,
    message_id: str | None = None,
    reply: MessageRow | None = None,
) -> MessageRow:
    """Write the user's turn (before Claude is called), and `reply` in flight after it."""
    conversation = require_conversation_sync(session, owner, conversation_id, for_update=True)
    seq = user_seq_after(_last_turn(session, conversation_id))
    return _add_user_message(session, conversation, seq, content, message_id, reply)


def _add_user_message(
    session: Session,
    conversation: Conversation,
    seq: int,
    content: str,
    message_id: str | None,
    reply: MessageRow | None = None,
) -> MessageRow:
    content = clean_text(content)  # before it names the conversation, too
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
    if reply is not None:
        # Both rows in one statement (executemany): the reply's place is right after it.
        reply.conversation_id, reply.seq = conversation.id, seq + 1
        reply.role = Role.ASSISTANT.value
        _insert_messages(session, message, reply)
        return message
    return _insert_message(session, message)


async def add_user_message(
    session: AsyncSession,
    owner: str,
    conversation_id: str,
    content: str,
    message_id: str | None = None,
    reply: MessageRow | None = None,
) -> MessageRow:
    return await run_sync(
        session, add_user_message_sync, owner, conversation_id, content, message_id, reply
    )


def save_assistant_message_sync(session: Session, owner: str, message: AnyMessage) -> AnyMessage:
    """Write an assistant turn once, when it has ended (complete, cancelled, failed)."""
    _end_reply(session, owner, message)
    return _insert_message(session, message)


def _end_reply(session: Session, owner: str, message: AnyMessage) -> None:
    """An ended reply's conversation made recent (ConversationNotFound if it isn't the
    owner's any more), its role and completion time set."""
    if not MessageStatus(message.status).is_final:
        raise ValueError(f"assistant turns are stored when final, not {message.status!r}")
    now = utcnow()
    params = {"p_cid": message.conversation_id, "p_owner": owner, "p_now": now}
    if not session.connection().execute(_TOUCH, params).rowcount:
        raise ConversationNotFound(message.conversation_id)
    message.role = Role.ASSISTANT.value
    message.completed_at = message.completed_at or now


async def save_assistant_message(
    session: AsyncSession, owner: str, message: AnyMessage
) -> AnyMessage:
    return await run_sync(session, save_assistant_message_sync, owner, message)


# The end of a reply written at its turn's start: everything but its identity and place.
_FINISH_COLUMNS = tuple(
    name for name in _MESSAGE_COLUMNS if name not in ("id", "conversation_id", "seq", "role")
)
_FINISH = (
    sa.update(_MESSAGE_TABLE)
    .where(
        _MESSAGE_TABLE.c.id == sa.bindparam("p_id"),
        _MESSAGE_TABLE.c.conversation_id == sa.bindparam("p_cid"),
    )
    .values({name: sa.bindparam(f"v_{name}") for name in _FINISH_COLUMNS})
)


def finish_assistant_message_sync(session: Session, owner: str, message: MessageRow) -> MessageRow:
    """Store an ended reply over its row in flight (one UPDATE by id). If that row is gone
    (another tab rewrote the turns after its question), it is kept after the last turn."""
    _end_reply(session, owner, message)
    message.lease_until = None
    message.content = clean_text(message.content)
    message.thinking = clean_text(message.thinking)
    message.error = clean_optional(message.error)
    values = {f"v_{name}": getattr(message, name) for name in _FINISH_COLUMNS}
    values.update(p_id=message.id, p_cid=message.conversation_id)
    if session.connection().execute(_FINISH, values).rowcount:
        return message
    last = _last_turn(session, message.conversation_id)
    message.seq = last.seq + 1 if last else 0
    return _insert_message(session, message)


def append_assistant_message_sync(session: Session, owner: str, message: AnyMessage) -> AnyMessage:
    """Write an ended reply after the conversation's last turn: for a reply whose own seq
    was taken meanwhile (another tab edited the turns after its question)."""
    last = _last_turn(session, message.conversation_id)
    message.seq = last.seq + 1 if last else 0
    return save_assistant_message_sync(session, owner, message)


def _history(session: Session, conversation_id: str) -> Sequence[TurnRow]:
    """The turns of a conversation checked to be the owner's: rows of seq, role, content and
    status, in order."""
    return session.connection().execute(_HISTORY, {"p_cid": conversation_id}).all()


def history_sync(
    session: Session, owner: str, conversation_id: str
) -> tuple[Conversation, Sequence[TurnRow]]:
    conversation = require_conversation_sync(session, owner, conversation_id)
    return conversation, _history(session, conversation_id)


def start_turn_sync(
    session: Session,
    owner: str,
    conversation_id: str | None,
    user_text: str,
    user_message_id: str | None,
    replace_from_message_id: str | None = None,
    new_conversation_settings: Settings | None = None,
    reply: MessageRow | None = None,
) -> tuple[Conversation, Sequence[TurnRow], MessageRow]:
    """The user's turn (and `reply` in flight after it): in a new conversation
    (`conversation_id` None) or replacing a turn and all later ones. Returns the
    conversation, the history before this turn (what Claude is sent besides it, so the user
    text reaches Claude once), and the stored turn. The conversation is read once, locked
    (PostgreSQL) before its turns are: the next seq is then the last listed one's successor."""
    if conversation_id is None:
        conversation = create_conversation_sync(session, owner, settings=new_conversation_settings)
    else:
        conversation = require_conversation_sync(session, owner, conversation_id, for_update=True)
    if replace_from_message_id:
        truncate_from_sync(session, owner, conversation.id, replace_from_message_id)
    previous = _history(session, conversation.id) if conversation_id is not None else []
    seq = user_seq_after(previous[-1] if previous else None)
    user_message = _add_user_message(session, conversation, seq, user_text, user_message_id, reply)
    return conversation, previous, user_message
