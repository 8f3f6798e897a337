"""One turn end to end: store the user turn, stream Claude, yield pushes, store the reply."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, aclosing

import anthropic
from sqlalchemy import Row

from ai_chat.config import Settings
from ai_chat.generation.cancellation import Cancellation, was_stopped_by_user
from ai_chat.generation.coalesce import PushCoalescer, PushPolicy
from ai_chat.generation.live import LiveReplies, LiveReply, LiveSnapshot
from ai_chat.generation.turn_starts import TurnStartSlots
from ai_chat.llm.errors import ReplyError, classify
from ai_chat.llm.history import Turn, build_messages
from ai_chat.llm.stream import ReplyRequest, RetryPolicy, stream_reply
from ai_chat.store import conversations as store
from ai_chat.store.db import run_read, run_write, writes_queue
from ai_chat.store.models import Conversation, Message, MessageStatus, utcnow

log = logging.getLogger(__name__)

# A push at least this often while Claude is silent, so the elapsed timer moves.
TICK_S = 1.0


@dataclasses.dataclass(frozen=True)
class GenerationJob:
    owner: str
    conversation_id: str | None  # None: create the conversation with this turn
    user_text: str
    generation_id: str
    assistant_message_id: str
    model: str
    max_tokens: int
    user_message_id: str | None = None  # the id the UI already shows for the user turn
    # Edit & resend / regenerate: this stored turn and all later ones are replaced.
    replace_from_message_id: str | None = None
    new_conversation_settings: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class TurnStarted:
    """The user turn is stored; the reply is about to be requested."""

    conversation_id: str
    user_message: Message
    created_conversation: bool
    title: str = ""
    history: tuple[Turn, ...] = ()  # stored turns before this one (sent to Claude)
    conversation: Conversation | None = None  # its settings shape the request


@dataclasses.dataclass(frozen=True)
class TurnFinished:
    """The assistant turn has ended and (unless `save_error`) is stored."""

    message: Message
    save_error: str | None = None  # shown to the user when the turn could not be stored
    user_turn_saved: bool = True  # False: nothing reached the DB or Claude
    user_text: str = ""


Update = TurnStarted | LiveSnapshot | TurnFinished


class GenerationService:
    def __init__(
        self,
        settings: Settings,
        client_lease: Callable[[], AbstractContextManager[anthropic.AsyncAnthropic]],
        cancellation: Cancellation,
        live: LiveReplies,
        db_url: str | None = None,
    ) -> None:
        self.settings = settings
        self._client_lease = client_lease
        self.cancellation = cancellation
        self.live = live
        self._db_url = db_url
        self.policy = RetryPolicy(
            max_retries=settings.max_retries,
            max_wait_s=settings.max_retry_wait_s,
            stall_timeout_s=settings.stall_timeout_s,
        )
        self.push_policy = PushPolicy(
            min_interval_s=settings.push_interval_s,
            max_interval_s=settings.push_interval_max_s,
            pushes_per_s=settings.push_budget_per_s,
        )
        self.turn_starts = TurnStartSlots(settings.turn_start_slots)

    async def run(self, job: GenerationJob) -> AsyncIterator[Update]:
        reply = LiveReply(
            generation_id=job.generation_id,
            conversation_id=job.conversation_id or "",
            message_id=job.assistant_message_id,
            model=job.model,
        )
        async with self.turn_starts.slot():
            started = await self._stored_user_turn(job, reply)
            yield started
            if isinstance(started, TurnFinished):  # nothing was stored or sent
                return
            request = self._request(job, started)
        reply.conversation_id = started.conversation_id
        reply.model = request.model
        self.live.add(reply)
        coalescer = PushCoalescer(self.push_policy, live_streams=self.live.__len__)
        producer = asyncio.create_task(self._consume(reply, request, coalescer))
        await self.cancellation.register(job.generation_id, producer)
        try:
            async for snapshot in self._coalesced(reply, producer, coalescer):
                yield snapshot
            try:
                await producer
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we are being cancelled ourselves
                # Stopped before the task ever ran (stop during the user-turn write).
                reply.finish(MessageStatus.CANCELLED)
        finally:
            if not producer.done():  # our own task was cancelled (shutdown): stop upstream too
                producer.cancel("generation abandoned")
                await asyncio.gather(producer, return_exceptions=True)
                reply.finish(MessageStatus.INTERRUPTED)
            self.cancellation.unregister(job.generation_id)
            self.live.remove(job.generation_id)
        yield await self._store_reply(job, reply, seq=started.user_message.seq + 1)

    async def _stored_user_turn(
        self, job: GenerationJob, reply: LiveReply
    ) -> TurnStarted | TurnFinished:
        try:
            return await self._store_user_turn(job)
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
            return TurnFinished(
                self._assistant_row(reply, seq=-1), user_turn_saved=False, user_text=job.user_text
            )

    async def _store_user_turn(self, job: GenerationJob) -> TurnStarted:
        if job.conversation_id and not job.replace_from_message_id and writes_queue(self._db_url):
            # The common case on SQLite: read the history outside its write queue, so the
            # write transaction is short. A server database takes it all in one transaction:
            # each one costs a worker several round trips (a third of a turn's DB CPU).
            conversation, previous = await run_read(
                store.history_sync, job.owner, job.conversation_id, url=self._db_url
            )
            user_message = await run_write(
                store.add_user_message_sync,
                job.owner,
                conversation.id,
                job.user_text,
                job.user_message_id,
                url=self._db_url,
            )
            started = self._started(conversation, previous, user_message, created=False)
            # The conversation was read before this message, which names it if untitled.
            title = conversation.title or store.provisional_title(job.user_text)
            return dataclasses.replace(started, title=title)
        # A new conversation, an edit/regenerate, or a server database: one transaction.
        conversation, previous, user_message = await run_write(
            store.start_turn_sync,
            job.owner,
            job.conversation_id,
            job.user_text,
            job.user_message_id,
            job.replace_from_message_id,
            job.new_conversation_settings,
            url=self._db_url,
        )
        created = job.conversation_id is None
        return self._started(conversation, previous, user_message, created)

    @staticmethod
    def _started(
        conversation: Conversation,
        previous: Sequence[Row],  # the store's history rows: seq, role, content, status
        user_message: Message,
        created: bool,
    ) -> TurnStarted:
        history = tuple(Turn(m.role, m.content, m.status) for m in previous)
        return TurnStarted(
            conversation.id, user_message, created, conversation.title, history, conversation
        )

    def _request(self, job: GenerationJob, started: TurnStarted) -> ReplyRequest:
        """The conversation's own settings win over the server defaults in the job."""
        conv = started.conversation
        messages = build_messages(started.history, job.user_text, self.settings.history_max_chars)
        return ReplyRequest(
            model=(conv and conv.model) or job.model,
            messages=messages,
            max_tokens=(conv and conv.max_output_tokens) or job.max_tokens,
            system=(conv and conv.system_prompt) or None,
            thinking_budget=(conv and conv.thinking_budget) or None,
        )

    async def _consume(
        self, reply: LiveReply, request: ReplyRequest, coalescer: PushCoalescer
    ) -> None:
        """The only code that touches the HTTP stream; cancelling it closes the connection."""

        async def pace() -> None:
            started, pending = (
                reply.first_token_at is not None,
                reply.version > coalescer.pushed_version,
            )
            await coalescer.pace_read(started, pending)

        try:
            async with asyncio.timeout(self.settings.reply_deadline_s):
                with self._client_lease() as client:  # held until the stream is closed
                    stream = stream_reply(client, request, self.policy, pace=pace)
                    async with aclosing(stream) as events:
                        async for event in events:
                            reply.apply(event)
            reply.finish(MessageStatus.COMPLETE)
        except asyncio.CancelledError as exc:
            status = (
                MessageStatus.CANCELLED if was_stopped_by_user(exc) else MessageStatus.INTERRUPTED
            )
            reply.finish(status)
            if status is MessageStatus.INTERRUPTED:
                raise
        except Exception as exc:
            error = classify(
                exc, model=request.model, stall_timeout_s=self.settings.stall_timeout_s
            )
            if error.kind == "internal":
                log.exception("unexpected error in a reply stream")
            reply.finish(MessageStatus.FAILED, error)

    async def _coalesced(
        self, reply: LiveReply, producer: asyncio.Task, coalescer: PushCoalescer
    ) -> AsyncIterator[LiveSnapshot]:
        """Snapshots: the first token at once, then at most one per push interval."""
        loop = asyncio.get_running_loop()
        pushed_version, first_text_pushed = -1, False
        while not producer.done():
            await reply.wait_for_change(pushed_version, TICK_S)
            if producer.done():
                break
            if reply.first_token_at is not None and not first_text_pushed:
                first_text_pushed = True  # no added first-token latency
            else:
                # Wait out the interval; the reply ending (finish() touches it) ends the wait.
                deadline = loop.time() + coalescer.wait_s(loop.time())
                while not producer.done() and (left := deadline - loop.time()) > 0:
                    await reply.wait_for_change(reply.version, left)
                if producer.done():
                    break
            pushed_version = reply.version
            # When it starts: the reader's next batch is timed by it.
            coalescer.pushed(loop.time(), pushed_version)
            yield reply.snapshot()

    def _assistant_row(self, reply: LiveReply, seq: int) -> Message:
        error = reply.error
        return Message(
            id=reply.message_id,
            conversation_id=reply.conversation_id,
            seq=seq,
            role="assistant",
            content=reply.text,
            thinking=reply.thinking,
            status=reply.status.value,
            model=reply.model,
            stop_reason=reply.stop_reason,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            output_tokens_estimated=not reply.usage_final,
            cache_read_input_tokens=reply.cache_read_input_tokens,
            cache_creation_input_tokens=reply.cache_creation_input_tokens,
            request_id=error.request_id if error and error.request_id else reply.request_id,
            error=error.message if error else None,
            created_at=reply.created_at,
            completed_at=utcnow(),
        )

    async def _conversation_exists(self, owner: str, conversation_id: str) -> bool:
        try:
            found = await run_read(
                store.get_conversation_sync, owner, conversation_id, url=self._db_url
            )
            return found is not None
        except Exception:  # noqa: BLE001 - the DB itself is down: report the save failure
            return True

    async def _store_reply(self, job: GenerationJob, reply: LiveReply, seq: int) -> TurnFinished:
        message = self._assistant_row(reply, seq)
        try:
            await run_write(store.save_assistant_message_sync, job.owner, message, url=self._db_url)
        except Exception as exc:
            if not await self._conversation_exists(job.owner, message.conversation_id):
                log.info("conversation %s was deleted during its reply", message.conversation_id)
                return TurnFinished(message)  # nothing to save it into, nothing to report
            log.exception("storing the assistant turn failed")
            return TurnFinished(
                message,
                save_error=f"The reply could not be saved ({type(exc).__name__}): it is shown "
                "here but will be missing after a reload.",
            )
        return TurnFinished(message)
