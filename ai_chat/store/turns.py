"""The turn path's writes: the user's turn and its reply in flight before Claude is asked
(one transaction), the reply updated once it ended.

The reply's row is written with its question, at the seq right after it, "thinking" and
with a lease (store/inflight.py): a crash leaves it there to be recovered as interrupted.
A user turn never takes the seq right after another user turn (one without its reply's
row, e.g. from before replies were written at the start): two tabs sending into one
conversation at once each get their question and reply side by side.

Versions (store/branches.py): a new turn goes under the last message of the path shown;
Regenerate adds a reply beside the old one, Edit a user message beside the edited one, and
the new version becomes the one shown. Nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.store import attachments, branches
from ai_chat.store.branches import Tip, TurnRow
from ai_chat.store.branches import history_sync as history_sync  # the turn path's reads
from ai_chat.store.branches import turn_history_sync as turn_history_sync
from ai_chat.store.conversations import (
    ConversationNotFound,
    Settings,
    create_conversation_sync,
    provisional_title,
    require_conversation_sync,
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

# The statements are built once, with bound parameters (see conversations.py). A turn's
# history is read as plain rows (store/branches.py).
_MESSAGE_TABLE: sa.Table = Message.__table__  # type: ignore[attr-defined]  # set by SQLModel, undeclared
_LAST_TURN = (
    sa.select(_MESSAGE_TABLE.c.seq, _MESSAGE_TABLE.c.role, _MESSAGE_TABLE.c.id)
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
    tip: Tip | None = None,
) -> MessageRow:
    """Write the user's turn (before Claude is called), and `reply` in flight after it, at
    the end of the path shown. `tip`: where the history read for it ended (kept when no turn
    was written since, else found again here)."""
    conversation = require_conversation_sync(session, owner, conversation_id, for_update=True)
    last = _last_turn(session, conversation_id)
    if tip is None or tip.last_seq != (last.seq if last is not None else None):
        tip = branches.tip_after_sync(session, conversation_id, last)
    seq = user_seq_after(last)
    return _add_user_message(session, conversation, seq, content, message_id, reply, tip.tail)


def _add_user_message(
    session: Session,
    conversation: Conversation,
    seq: int,
    content: str,
    message_id: str | None,
    reply: MessageRow | None = None,
    parent_id: str | None = None,
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
        parent_id=parent_id,
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
        reply.role, reply.parent_id, reply.active = Role.ASSISTANT.value, message.id, True
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


_BEFORE = (
    sa.select(_MESSAGE_TABLE.c.id)
    .where(
        _MESSAGE_TABLE.c.conversation_id == sa.bindparam("p_cid"),
        _MESSAGE_TABLE.c.seq < sa.bindparam("p_seq"),
    )
    .order_by(_MESSAGE_TABLE.c.seq.desc())
    .limit(1)
)
_REPARENT = (
    sa.update(_MESSAGE_TABLE)
    .where(
        _MESSAGE_TABLE.c.conversation_id == sa.bindparam("p_cid"),
        _MESSAGE_TABLE.c.parent_id == sa.bindparam("p_before"),
        _MESSAGE_TABLE.c.seq > sa.bindparam("p_seq"),
    )
    .values(parent_id=sa.bindparam("p_id"))
)


def save_assistant_message_sync(session: Session, owner: str, message: AnyMessage) -> AnyMessage:
    """Write an assistant turn once, when it has ended (complete, cancelled, failed). One
    given only its seq goes there in the conversation's line, after the message before it
    (what followed that message follows it): written as before messages had parents."""
    _end_reply(session, owner, message)
    if message.parent_id is None:
        params = {"p_cid": message.conversation_id, "p_seq": message.seq}
        before = session.connection().execute(_BEFORE, params).scalar()
        if before is not None:
            params.update(p_before=before, p_id=message.id)
            session.connection().execute(_REPARENT, params)
        message.parent_id = before
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


# The end of a reply written at its turn's start: everything but its identity and place
# (its place in the tree included: the row built at the end doesn't know it).
_FINISH_COLUMNS = tuple(
    name
    for name in _MESSAGE_COLUMNS
    if name not in ("id", "conversation_id", "seq", "role", "parent_id", "active")
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
    """Store an ended reply over its row in flight (one UPDATE by id). If that row is gone,
    it is kept at the end of the path shown."""
    _end_reply(session, owner, message)
    message.lease_until = None
    message.content = clean_text(message.content)
    message.thinking = clean_text(message.thinking)
    message.error = clean_optional(message.error)
    values = {f"v_{name}": getattr(message, name) for name in _FINISH_COLUMNS}
    values.update(p_id=message.id, p_cid=message.conversation_id)
    if session.connection().execute(_FINISH, values).rowcount:
        return message
    return _append(session, message)


def append_assistant_message_sync(session: Session, owner: str, message: AnyMessage) -> AnyMessage:
    """Write an ended reply after the conversation's last turn, at the end of the path
    shown: for a reply whose own place was taken meanwhile."""
    _end_reply(session, owner, message)
    return _append(session, message)


def _append(session: Session, message: AnyMessage) -> AnyMessage:
    last = _last_turn(session, message.conversation_id)
    message.seq = last.seq + 1 if last else 0
    message.parent_id = branches.tip_sync(session, message.conversation_id).tail
    message.active = True
    return _insert_message(session, message)


def start_turn_sync(
    session: Session,
    owner: str,
    conversation_id: str | None,
    user_text: str,
    user_message_id: str | None,
    version_of: str | None = None,
    new_conversation_settings: Settings | None = None,
    reply: MessageRow | None = None,
    regenerate: bool = False,
) -> tuple[Conversation, Sequence[TurnRow], MessageRow]:
    """The user's turn (and `reply` in flight after it) in one transaction: in a new
    conversation (`conversation_id` None), after the path shown, or as a new version of the
    user message `version_of`: an edit (a new user message beside it, with its files) or,
    with `regenerate`, a new reply to it. The conversation is read once, locked (PostgreSQL)
    before its turns are: the next seq is then the last listed one's successor. Returns the
    conversation, the path before this turn (what Claude is sent besides it, so the user
    text reaches Claude once), and the stored user turn."""
    if conversation_id is None:
        conversation = create_conversation_sync(session, owner, settings=new_conversation_settings)
        rows: Sequence[TurnRow] = []
    else:
        conversation = require_conversation_sync(session, owner, conversation_id, for_update=True)
        rows = branches.rows_sync(session, conversation.id)
    last = rows[-1] if rows else None
    if version_of is None:
        path = branches.walk(rows)
        parent = path[-1].id if path else None
        message = _add_user_message(
            session, conversation, user_seq_after(last), user_text, user_message_id, reply, parent
        )
        return conversation, path, message
    chain = branches.chain_to(rows, version_of)
    if chain is None or chain[-1].role != Role.USER.value:
        raise LookupError(f"no user message {version_of} in this conversation")
    # A tab showing another branch than the one stored: its message's branch is shown now.
    branches.activate_chain_sync(session, conversation.id, chain if regenerate else chain[:-1])
    target, previous = chain[-1], chain[:-1]
    if regenerate:
        return _regenerate(session, conversation, rows, target, previous, reply)
    message = _add_user_message(
        session,
        conversation,
        user_seq_after(last),
        user_text,
        user_message_id,
        reply,
        target.parent_id,
    )
    branches.activate_sync(session, conversation.id, message.id, target.parent_id)
    attachments.copy_to_message_sync(session, owner, target.id, message.id)
    return conversation, previous, message


def _regenerate(
    session: Session,
    conversation: Conversation,
    rows: Sequence[TurnRow],
    question: TurnRow,
    previous: Sequence[TurnRow],
    reply: MessageRow | None,
) -> tuple[Conversation, Sequence[TurnRow], MessageRow]:
    """A new reply to `question` (stored already), beside its other replies."""
    asked = MessageRow(
        id=question.id,
        conversation_id=conversation.id,
        seq=question.seq,
        role=question.role,
        content=question.content,
        status=question.status,
        parent_id=question.parent_id,
    )
    if reply is None:
        return conversation, previous, asked
    reply.conversation_id, reply.seq = conversation.id, rows[-1].seq + 1
    reply.role, reply.parent_id, reply.active = Role.ASSISTANT.value, question.id, True
    _insert_message(session, reply)
    branches.activate_sync(session, conversation.id, reply.id, question.id)
    return conversation, previous, asked
