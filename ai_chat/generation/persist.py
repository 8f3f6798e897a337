"""A turn's two writes: the user turn and its reply's row in flight before Claude is asked,
the reply once it has ended.

Each failure becomes what the tab shows (a turn that did not start, or a reply shown but
not saved), never an exception out of the run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Row

from ai_chat.config import get_settings
from ai_chat.generation import turn_files
from ai_chat.generation.job import GenerationJob, TurnFinished, TurnStarted
from ai_chat.generation.live_reply import LiveReply
from ai_chat.llm.errors import ReplyError
from ai_chat.llm.history import Turn, TurnFile
from ai_chat.store import conversations as store
from ai_chat.store import turns
from ai_chat.store.db import run_read, run_write, writes_queue
from ai_chat.store.models import Conversation, MessageRow, MessageStatus, utcnow
from ai_chat.store.text import clean_optional, clean_text

log = logging.getLogger(__name__)

DELETED_BEFORE_SEND = (
    "This conversation was deleted (perhaps in another tab), so nothing was sent to Claude. "
    "Your text is still in the box: start a new chat to send it."
)


class TurnStore:
    def __init__(self, db_url: str | None = None, lease_s: float = 5.0) -> None:
        self._db_url = db_url
        self.lease_s = lease_s  # a reply's row's first lease, until its first checkpoint

    async def user_turn(self, job: GenerationJob, reply: LiveReply) -> TurnStarted | TurnFinished:
        """The user turn and the reply's row in flight stored (TurnStarted), or TurnFinished:
        nothing was stored, and `reply` is marked failed."""
        try:
            return await self.store_user_turn(job, self.in_flight_row(reply))
        except turn_files.AttachmentRefused as exc:  # nothing stored: the files stay unsent
            reply.finish(MessageStatus.FAILED, ReplyError("attachments", str(exc)))
            deleted = False
        except store.ConversationNotFound:
            # Trying again can't help: the tab still shows a conversation deleted meanwhile.
            reply.finish(MessageStatus.FAILED, ReplyError("storage", DELETED_BEFORE_SEND))
            deleted = True
        except Exception as exc:
            log.exception("storing the user turn failed")
            reply.finish(
                MessageStatus.FAILED,
                ReplyError(
                    "storage",
                    f"Your message could not be saved ({type(exc).__name__}); "
                    "nothing was sent to Claude. Try again.",
                ),
            )
            deleted = False
        return TurnFinished(
            assistant_row(reply, seq=-1),
            user_turn_saved=False,
            user_text=clean_text(job.user_text),  # given back to the box over the socket
            conversation_deleted=deleted,
            error_kind=error_kind(reply),
        )

    def in_flight_row(self, reply: LiveReply) -> MessageRow:
        """The reply's row as its turn starts: "thinking", leased (its place is set by the
        store, right after the user turn)."""
        return MessageRow(
            id=reply.message_id,
            conversation_id=reply.conversation_id,
            seq=-1,
            role="assistant",
            status=MessageStatus.THINKING.value,
            model=reply.model,
            created_at=reply.created_at,
            lease_until=utcnow() + timedelta(seconds=self.lease_s),
        )

    async def store_user_turn(
        self, job: GenerationJob, in_flight: MessageRow | None = None
    ) -> TurnStarted:
        """The user turn stored (its files linked to it in the same transaction), and the
        bytes of the files its request sends read (raises AttachmentRefused: nothing stored)."""
        settings = get_settings()
        if refusal := await turn_files.new_pages_refusal(job, settings, self._db_url):
            raise turn_files.AttachmentRefused(refusal)
        if job.conversation_id and not job.version_of and writes_queue(self._db_url):
            # The common case on SQLite: read the history outside its write queue, so the
            # write transaction is short. A server database takes it all in one transaction:
            # each one costs a worker several round trips (a third of a turn's DB CPU).
            (conversation, previous), earlier = await run_read(
                turn_files.read_history_sync,
                turns.history_sync,
                job.owner,
                job.conversation_id,
                url=self._db_url,
            )
            user_message, _, linked = await run_write(
                turn_files.stored_turn_sync,
                job,
                settings,
                turns.add_user_message_sync,
                job.owner,
                conversation.id,
                job.user_text,
                job.user_message_id,
                in_flight,
                url=self._db_url,
            )
            started = _started(conversation, previous, user_message, False, earlier)
            # The conversation was read before this message, which names it if untitled.
            title = conversation.title or store.provisional_title(clean_text(job.user_text))
            started = dataclasses.replace(started, title=title)
        else:
            # A new conversation, an edit/regenerate, or a server database: one transaction.
            (conversation, previous, user_message), earlier, linked = await run_write(
                turn_files.stored_turn_sync,
                job,
                settings,
                turns.start_turn_sync,
                job.owner,
                job.conversation_id,
                job.user_text,
                job.user_message_id,
                job.version_of,
                job.new_conversation_settings,
                in_flight,
                job.regenerate,
                url=self._db_url,
            )
            created = job.conversation_id is None
            started = _started(conversation, previous, user_message, created, earlier)
        if not linked and not earlier:
            return started
        history, files = await turn_files.load(started.history, linked, settings, self._db_url)
        return dataclasses.replace(started, history=history, files=files)

    async def reply(self, job: GenerationJob, reply: LiveReply, seq: int) -> TurnFinished:
        """The ended reply stored over its row in flight (at `seq`); a database failure
        gives `save_pending` (the reply is shown, and retried: `save`), a deleted
        conversation `conversation_deleted`."""
        message = assistant_row(reply, seq)
        kind = error_kind(reply)
        try:
            await self.save(job.owner, message)
        except Exception as exc:  # noqa: BLE001 - the database: retried by the runner
            if not await self._conversation_exists(job.owner, message.conversation_id):
                log.info("conversation %s was deleted during its reply", message.conversation_id)
                return TurnFinished(message, conversation_deleted=True, error_kind=kind)
            log.warning("storing reply %s failed (%s); retrying", message.id, type(exc).__name__)
            return TurnFinished(message, save_pending=True, error_kind=kind)
        return TurnFinished(message, error_kind=kind)

    async def save(self, owner: str, message: MessageRow) -> None:
        """Store an ended reply (raises what the database raises)."""
        await run_write(turns.finish_assistant_message_sync, owner, message, url=self._db_url)

    async def _conversation_exists(self, owner: str, conversation_id: str) -> bool:
        try:
            found = await run_read(
                store.get_conversation_sync, owner, conversation_id, url=self._db_url
            )
            return found is not None
        except Exception:  # noqa: BLE001 - the DB itself is down: report the save failure
            return True


def _started(
    conversation: Conversation,
    previous: Sequence[Row[Any]],  # the store's history rows: seq, role, content, status
    user_message: MessageRow,
    created: bool,
    earlier: Sequence[turn_files.HistoryFile] = (),  # their files (no bytes yet)
) -> TurnStarted:
    if earlier:
        by_seq = turn_files.files_by_seq(earlier)
        none: tuple[TurnFile, ...] = ()
        history = tuple(
            Turn(m.role, m.content, m.status, by_seq.get(m.seq, none)) for m in previous
        )
    else:
        history = tuple(Turn(m.role, m.content, m.status) for m in previous)
    return TurnStarted(
        conversation.id, user_message, created, conversation.title, history, conversation
    )


def error_kind(reply: LiveReply) -> str | None:
    """What failed (llm/errors.py kinds), for the turn log and metrics (ai_chat/ops)."""
    return reply.error.kind if reply.error else None


def assistant_row(reply: LiveReply, seq: int) -> MessageRow:
    """The reply as it ended, as the row to store (and to show: in text every backend and
    the socket can carry, even when the save fails)."""
    error = reply.error
    return MessageRow(
        id=reply.message_id,
        conversation_id=reply.conversation_id,
        seq=seq,
        role="assistant",
        content=clean_text(reply.text),
        thinking=clean_text(reply.thinking),
        status=reply.status.value,
        model=reply.model,
        stop_reason=reply.stop_reason,
        input_tokens=reply.input_tokens,
        output_tokens=reply.output_tokens,
        output_tokens_estimated=not reply.usage_final,
        cache_read_input_tokens=reply.cache_read_input_tokens,
        cache_creation_input_tokens=reply.cache_creation_input_tokens,
        request_id=error.request_id if error and error.request_id else reply.request_id,
        error=clean_optional(error.message if error else None),
        created_at=reply.created_at,
        completed_at=utcnow(),
    )
