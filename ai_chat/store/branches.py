"""Versions: a conversation is a tree of messages, and the conversation shown (and sent to
Claude) is one path through it.

Each message names the one before it on its branch (`parent_id`, None for a first message).
Messages with the same parent are versions of one turn: Regenerate adds a reply beside the
old one, Edit a user message beside the edited one. Among siblings exactly one is `active`;
the path starts at the active first message and follows the active child, so each branch
keeps the version last chosen in it. A child is always written after its parent, so along
any path `seq` grows: one pass over the rows in seq order finds the path.

Reading the whole conversation (every branch) costs one query, as before versions: a linear
conversation has no other rows, and versions are few beside a long conversation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from ai_chat.store.conversations import _messages as _all_messages
from ai_chat.store.conversations import require_conversation_sync
from ai_chat.store.db import run_sync
from ai_chat.store.models import Conversation, Message, MessageStatus

TurnRow = sa.Row[*tuple[Any, ...]]  # a row of message columns, read by name
# What a path is walked over: ORM messages (the page) or plain rows (a turn's history).
Node = TypeVar("Node", Message, TurnRow)
IN_FLIGHT = (MessageStatus.THINKING.value, MessageStatus.STREAMING.value)


_TABLE: sa.Table = Message.__table__  # type: ignore[attr-defined]  # set by SQLModel
# A turn's history: every branch's rows, as plain rows (an ORM object per prior message
# would cost on every turn, on the worker's event loop with SQLite); the path is found in
# Python (`walk`), in the same one query.
_HISTORY_COLUMNS = ("seq", "role", "content", "status", "id", "parent_id", "active")
_HISTORY = (
    sa.select(*(_TABLE.c[name] for name in _HISTORY_COLUMNS))
    .where(_TABLE.c.conversation_id == sa.bindparam("p_cid"))
    .order_by(_TABLE.c.seq)
)
# The same without the text: where a turn goes, when the history read with it is stale.
_NODES = (
    sa.select(*(_TABLE.c[name] for name in ("seq", "id", "parent_id", "active")))
    .where(_TABLE.c.conversation_id == sa.bindparam("p_cid"))
    .order_by(_TABLE.c.seq)
)


class VersionsBusy(RuntimeError):
    """A reply is being written in this conversation: its versions can't change now."""


class Path(list[Message]):
    """The conversation as shown, oldest first, and its messages that have other versions:
    `versions[id] = (n, m)`, version n of m (1-based, in the order they were made)."""

    def __init__(
        self, rows: Iterable[Message] = (), versions: dict[str, tuple[int, int]] | None = None
    ) -> None:
        super().__init__(rows)
        self.versions: dict[str, tuple[int, int]] = versions or {}


class Tip(NamedTuple):
    """Where a new turn goes, as read with its history: under `tail` (the path's last
    message), valid while the conversation's newest row is still `last_seq`."""

    tail: str | None
    last_seq: int | None


def walk(rows: Sequence[Node]) -> list[Node]:
    """The active path through `rows` (a conversation's messages in seq order). A row
    written without a parent (as rows were before versions) continues the path it follows:
    among true versions of a first message only one is active."""
    path: list[Node] = []
    tail: str | None = None
    for row in rows:
        if row.active and (row.parent_id == tail or (row.parent_id is None and tail)):
            path.append(row)
            tail = row.id
    return path


def versions_of(rows: Sequence[Node], path: Sequence[Node]) -> dict[str, tuple[int, int]]:
    """(n, m) for each message of `path` that has siblings in `rows` (seq order): versions
    are siblings one of which is active (several active first messages are one line)."""
    siblings: dict[str | None, list[str]] = {}
    active: dict[str | None, int] = {}
    for row in rows:
        siblings.setdefault(row.parent_id, []).append(row.id)
        if row.active:
            active[row.parent_id] = active.get(row.parent_id, 0) + 1
    if len(siblings) == len(rows):  # one child per parent: no versions anywhere
        return {}
    found: dict[str, tuple[int, int]] = {}
    for row in path:
        group = siblings[row.parent_id]
        if len(group) > 1 and active.get(row.parent_id) == 1:
            found[row.id] = (group.index(row.id) + 1, len(group))
    return found


def tip_of(rows: Sequence[Node], path: Sequence[Node]) -> Tip:
    return Tip(path[-1].id if path else None, rows[-1].seq if rows else None)


def chain_to(rows: Sequence[Node], message_id: str) -> list[Node] | None:
    """The messages from the first one down to `message_id` (None: not in `rows`): the
    path shown up to it, or for a message off that path, its line of parents."""
    path = walk(rows)
    index = next((i for i, row in enumerate(path) if row.id == message_id), None)
    if index is not None:
        return path[: index + 1]
    by_id = {row.id: row for row in rows}
    node = by_id.get(message_id)
    chain: list[Node] = []
    while node is not None and len(chain) <= len(rows):  # a (corrupt) cycle ends too
        chain.append(node)
        node = by_id.get(node.parent_id) if node.parent_id else None
    chain.reverse()
    return chain or None


def rows_sync(session: Session, conversation_id: str) -> Sequence[TurnRow]:
    """Every message of a conversation checked to be the owner's, every branch: rows of
    seq, role, content, status, id, parent_id and active, in seq order."""
    return session.connection().execute(_HISTORY, {"p_cid": conversation_id}).all()


def turn_history_sync(
    session: Session, owner: str, conversation_id: str
) -> tuple[Conversation, list[TurnRow], Tip]:
    """The conversation, its path shown (what Claude is sent before a new turn), and where
    a new turn goes."""
    conversation = require_conversation_sync(session, owner, conversation_id)
    rows = rows_sync(session, conversation_id)
    path = walk(rows)
    return conversation, path, tip_of(rows, path)


def history_sync(
    session: Session, owner: str, conversation_id: str
) -> tuple[Conversation, list[TurnRow]]:
    conversation, path, _ = turn_history_sync(session, owner, conversation_id)
    return conversation, path


def tip_sync(session: Session, conversation_id: str) -> Tip:
    """Where a turn goes now: under the last message of the path shown."""
    rows = session.connection().execute(_NODES, {"p_cid": conversation_id}).all()
    return tip_of(rows, walk(rows))


_ANY_INACTIVE = (
    sa.select(_TABLE.c.id)
    .where(_TABLE.c.conversation_id == sa.bindparam("p_cid"), sa.not_(_TABLE.c.active))
    .limit(1)
)


def tip_after_sync(session: Session, conversation_id: str, last: TurnRow | None) -> Tip:
    """`tip_sync` given the conversation's newest row (`last`: its seq and id): without any
    version not shown the conversation is one line, and `last` ends it (one index probe)."""
    if last is None:
        return Tip(None, None)
    if session.connection().execute(_ANY_INACTIVE, {"p_cid": conversation_id}).first() is None:
        return Tip(last.id, last.seq)
    return tip_sync(session, conversation_id)


def path_of(rows: Sequence[Message]) -> Path:
    path = walk(rows)
    return Path(path, versions_of(rows, path))


def active_path_sync(session: Session, owner: str, conversation_id: str) -> Path:
    """The owner's conversation as shown (ConversationNotFound if it isn't theirs)."""
    require_conversation_sync(session, owner, conversation_id)
    return path_of(_all_messages(session, conversation_id))


async def active_path(session: AsyncSession, owner: str, conversation_id: str) -> Path:
    return await run_sync(session, active_path_sync, owner, conversation_id)


# One statement makes a message the shown one among its siblings (and the others not).
_ACTIVATE = (
    sa.update(_TABLE)
    .where(
        _TABLE.c.conversation_id == sa.bindparam("p_cid"),
        _TABLE.c.parent_id == sa.bindparam("p_parent"),
    )
    .values(active=_TABLE.c.id == sa.bindparam("p_id"))
)
_ACTIVATE_FIRST = (
    sa.update(_TABLE)
    .where(_TABLE.c.conversation_id == sa.bindparam("p_cid"), _TABLE.c.parent_id.is_(None))
    .values(active=_TABLE.c.id == sa.bindparam("p_id"))
)


def activate_sync(
    session: Session, conversation_id: str, message_id: str, parent_id: str | None
) -> None:
    """`message_id` becomes the version shown among the messages under `parent_id`."""
    statement = _ACTIVATE_FIRST if parent_id is None else _ACTIVATE
    params = {"p_cid": conversation_id, "p_id": message_id, "p_parent": parent_id}
    if parent_id is None:
        del params["p_parent"]
    session.connection().execute(statement, params)


def activate_chain_sync(session: Session, conversation_id: str, chain: Sequence[Node]) -> None:
    """Every message of `chain` (first message down) made the shown version: the path
    then runs through all of them. Only the ones not shown yet are written."""
    for node in chain:
        if not node.active:
            activate_sync(session, conversation_id, node.id, node.parent_id)


_PARENT_OF = (
    sa.select(_TABLE.c.parent_id)
    .where(_TABLE.c.id == sa.bindparam("p_id"), _TABLE.c.conversation_id == sa.bindparam("p_cid"))
    .scalar_subquery()
)
_SIBLINGS = (
    sa.select(_TABLE.c.id)
    .where(
        _TABLE.c.conversation_id == sa.bindparam("p_cid"),
        _TABLE.c.parent_id.is_not_distinct_from(_PARENT_OF),
    )
    .order_by(_TABLE.c.seq)
)


def version_sync(
    session: Session, owner: str, conversation_id: str, message_id: str
) -> tuple[int, int] | None:
    """(n, m): `message_id` is version n of m; None if it is not in the conversation."""
    require_conversation_sync(session, owner, conversation_id)
    params = {"p_cid": conversation_id, "p_id": message_id}
    ids = list(session.connection().execute(_SIBLINGS, params).scalars())
    return (ids.index(message_id) + 1, len(ids)) if message_id in ids else None


async def version(
    session: AsyncSession, owner: str, conversation_id: str, message_id: str
) -> tuple[int, int] | None:
    return await run_sync(session, version_sync, owner, conversation_id, message_id)


def switch_sync(
    session: Session, owner: str, conversation_id: str, message_id: str, direction: int
) -> Path:
    """Show the previous (-1) or next (+1) version of `message_id`; the new path. Raises
    ConversationNotFound, LookupError (no such message or version), VersionsBusy."""
    if direction not in (-1, 1):
        raise ValueError(f"direction is -1 or 1, not {direction!r}")
    # Locked (PostgreSQL) like a turn's start: a turn and a switch don't interleave.
    require_conversation_sync(session, owner, conversation_id, for_update=True)
    rows = _all_messages(session, conversation_id)
    if any(row.status in IN_FLIGHT for row in rows):
        raise VersionsBusy(conversation_id)
    message = next((row for row in rows if row.id == message_id), None)
    if message is None:
        raise LookupError(f"no message {message_id} in this conversation")
    siblings = [row for row in rows if row.parent_id == message.parent_id]
    index = siblings.index(message) + direction
    # Versions have one shown among them (first messages written without parents don't).
    if not 0 <= index < len(siblings) or sum(row.active for row in siblings) != 1:
        raise LookupError("no such version")
    chain = chain_to(rows, siblings[index].id) or []
    activate_chain_sync(session, conversation_id, chain)
    session.expire_all()  # the rows above were read before the UPDATEs
    return path_of(_all_messages(session, conversation_id))


async def switch(
    session: AsyncSession, owner: str, conversation_id: str, message_id: str, direction: int
) -> Path:
    return await run_sync(session, switch_sync, owner, conversation_id, message_id, direction)
