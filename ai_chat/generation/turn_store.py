"""A turn's two writes: the user turn before Claude is asked, the reply once it has ended.

Each failure becomes what the tab shows (a turn that did not start, or a reply shown but
not saved), never an exception out of the run.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from ai_chat.generation.live import LiveReply
from ai_chat.generation.turn import GenerationJob, TurnFinished, TurnStarted
from ai_chat.llm.errors import ReplyError
from ai_chat.llm.history import Turn
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
    def __init__(self, db_url: str | None = None) -> None:
        self._db_url = db_url

    async def user_turn(self, job: GenerationJob, reply: LiveReply) -> TurnStarted | TurnFinished:
        """The user turn stored (TurnStarted), or TurnFinished: nothing was stored, and
        `reply` is marked failed."""
        try:
            return await self.store_user_turn(job)
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
        )

    async def store_user_turn(self, job: GenerationJob) -> TurnStarted:
        if job.conversation_id and not job.replace_from_message_id and writes_queue(self._db_url):
            # The common case on SQLite: read the history outside its write queue, so the
            # write transaction is short. A server database takes it all in one transaction:
            # each one costs a worker several round trips (a third of a turn's DB CPU).
            conversation, previous = await run_read(
                turns.history_sync, job.owner, job.conversation_id, url=self._db_url
            )
            user_message = await run_write(
                turns.add_user_message_sync,
                job.owner,
                conversation.id,
                job.user_text,
                job.user_message_id,
                url=self._db_url,
            )
            started = _started(conversation, previous, user_message, created=False)
            # The conversation was read before this message, which names it if untitled.
            title = conversation.title or store.provisional_title(clean_text(job.user_text))
            return dataclasses.replace(started, title=title)
        # A new conversation, an edit/regenerate, or a server database: one transaction.
        conversation, previous, user_message = await run_write(
            turns.start_turn_sync,
            job.owner,
            job.conversation_id,
            job.user_text,
            job.user_message_id,
            job.replace_from_message_id,
            job.new_conversation_settings,
            url=self._db_url,
        )
        created = job.conversation_id is None
        return _started(conversation, previous, user_message, created)

    async def reply(self, job: GenerationJob, reply: LiveReply, seq: int) -> TurnFinished:
        """The ended reply stored as the turn at `seq`; a failure is reported in
        `save_error` (the reply is still shown), unless its conversation was deleted."""
        message = assistant_row(reply, seq)
        try:
            await self._save_reply(job.owner, message)
        except Exception as exc:
            if not await self._conversation_exists(job.owner, message.conversation_id):
                log.info("conversation %s was deleted during its reply", message.conversation_id)
                return TurnFinished(message, conversation_deleted=True)  # nothing to save into
            log.exception("storing the assistant turn failed")
            return TurnFinished(
                message,
                save_error=f"The reply could not be saved ({type(exc).__name__}): it is shown "
                "here but will be missing after a reload.",
            )
        return TurnFinished(message)

    async def _save_reply(self, owner: str, message: MessageRow) -> None:
        try:
            await run_write(turns.save_assistant_message_sync, owner, message, url=self._db_url)
        except IntegrityError:
            # Its seq was taken meanwhile (another tab rewrote the turns after its question):
            # kept after the last turn rather than lost.
            await run_write(turns.append_assistant_message_sync, owner, message, url=self._db_url)

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
    previous: Sequence[Row],  # the store's history rows: seq, role, content, status
    user_message: MessageRow,
    created: bool,
) -> TurnStarted:
    history = tuple(Turn(m.role, m.content, m.status) for m in previous)
    return TurnStarted(
        conversation.id, user_message, created, conversation.title, history, conversation
    )


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
