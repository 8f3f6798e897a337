"""One turn end to end: store the user turn, stream Claude, yield pushes, store the reply.

The turn's types are in `job`, its writes in `persist`; this is the stream between them.
A turn runs in a task of its own (`durability`): `run()` only relays its updates, so the
turn ends and is stored even if whoever iterates `run()` goes away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractContextManager, aclosing

import anthropic

from ai_chat.config import Settings
from ai_chat.generation.cancellation import Cancellation, was_stopped_by_user
from ai_chat.generation.coalesce import PushCoalescer, PushPolicy
from ai_chat.generation.durability import DRAINING, Durability, checkpoint_store
from ai_chat.generation.fanout import Fanout
from ai_chat.generation.fanout_redis import RedisFanout
from ai_chat.generation.job import GenerationJob, TurnFinished, TurnStarted, Update
from ai_chat.generation.live_reply import LiveReplies, LiveReply, LiveSnapshot
from ai_chat.generation.persist import TurnStore, assistant_row
from ai_chat.generation.relay import Relay
from ai_chat.generation.start_slots import TurnStartSlots
from ai_chat.limits import Quotas, Refusal
from ai_chat.llm.errors import ReplyError, classify
from ai_chat.llm.history import build_messages
from ai_chat.llm.stream import ReplyRequest, RetryPolicy, stream_reply
from ai_chat.ops.turn_log import TurnObserver
from ai_chat.store.models import MessageStatus

log = logging.getLogger(__name__)

# A push at least this often while Claude is silent, so the elapsed timer moves.
TICK_S = 1.0
CRASHED = "Something went wrong while replying. Please try again."


class GenerationService:
    def __init__(
        self,
        settings: Settings,
        client_lease: Callable[[], AbstractContextManager[anthropic.AsyncAnthropic]],
        cancellation: Cancellation,
        live: LiveReplies,
        db_url: str | None = None,
        quotas: Quotas | None = None,
        durability: Durability | None = None,
    ) -> None:
        self.settings = settings
        # Limits are checked here, where the work is done: forged events meet them too.
        self.quotas = quotas or Quotas(settings)
        self._client_lease = client_lease
        self.cancellation = cancellation
        self.live = live
        self.turns = TurnStore(db_url, settings.reply_lease_s)
        self.durability = durability or Durability(
            settings, checkpoint_store(settings, db_url), db_url
        )
        # Other tabs' live view: in-process for one worker, through Redis when workers share it.
        self.fanout = RedisFanout(settings.redis_url) if settings.redis_url else Fanout()
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

    @property
    def draining(self) -> bool:
        """Shutting down: new turns are refused (their text goes back to the box)."""
        return self.durability.draining

    async def reply_alive(self, generation_id: str, message_id: str) -> bool:
        """True if the reply runs in this process, or some worker renewed its lease within
        `reply_lease_s` (False once it has ended)."""
        if self.durability.running(generation_id):
            return True
        return await self.durability.recovery.alive(message_id)

    async def recover_conversation(self, owner: str, conversation_id: str) -> int:
        """The conversation's replies whose worker is gone, stored as interrupted with their
        checkpointed text; how many."""
        return await self.durability.recovery.recover_conversation(owner, conversation_id)

    async def run(self, job: GenerationJob) -> AsyncGenerator[Update, None]:
        async with aclosing(self._relayed(job)) as updates:
            async for update in updates:
                yield update

    async def _relayed(self, job: GenerationJob) -> AsyncGenerator[Update, None]:
        relay = Relay(TurnObserver(job))  # ops: the turn's JSON log line and its metrics
        self.durability.spawn(job.generation_id, self._turn(job, relay))
        async with aclosing(relay.updates()) as updates:
            async for update in updates:
                yield update

    async def _turn(self, job: GenerationJob, relay: Relay) -> None:
        reply = LiveReply(
            generation_id=job.generation_id,
            conversation_id=job.conversation_id or "",
            message_id=job.assistant_message_id,
            model=job.model,
        )
        try:
            await self._run(job, reply, relay)
        except Exception:  # a bug: the tab still hears of an end, with what there was
            log.exception("turn %s crashed", job.generation_id)
            if not reply.status.is_final:
                reply.finish(MessageStatus.FAILED, ReplyError("internal", CRASHED))
            stored = self.durability.has_row(job.generation_id)
            relay.post(
                TurnFinished(
                    assistant_row(reply, -1),
                    save_error=CRASHED if stored else None,
                    user_turn_saved=stored,
                    user_text=job.user_text,
                )
            )
        finally:
            self.durability.row_ended(reply)
            relay.close()
            await self.quotas.release_reply(job.generation_id)  # a no-op once released

    async def _run(self, job: GenerationJob, reply: LiveReply, relay: Relay) -> None:
        async with self.turn_starts.slot():
            if self.durability.draining:  # shutting down: the text goes back to the box
                relay.post(_refused(job, reply, Refusal("draining", DRAINING, None)))
                return
            # The user's and the conversation's reply slots, the message and token counts.
            refusal = await self.quotas.admit(
                job.owner, job.generation_id, job.limits, job.conversation_id
            )
            if refusal is not None:  # nothing stored or sent: the text goes back to the box
                relay.post(_refused(job, reply, refusal))
                return
            started = await self.turns.user_turn(job, reply)
            if isinstance(started, TurnFinished):  # nothing was stored or sent
                await self.quotas.release_reply(job.generation_id)
                relay.post(started)
                return
            reply.conversation_id = started.conversation_id
            self.durability.row_written(reply)
            if started.created_conversation:  # held before anyone can know its id
                await self.quotas.hold_conversation(job.generation_id, started.conversation_id)
            await relay.send(started)
            request = self._request(job, started)
        reply.conversation_id = started.conversation_id
        reply.model = request.model
        self.live.add(reply)
        coalescer = PushCoalescer(self.push_policy, live_streams=self.live.__len__)
        producer = asyncio.create_task(self._consume(reply, request, coalescer))
        producer.add_done_callback(lambda _: relay.release())  # the end never waits for a tab
        self.durability.streaming(job.generation_id, producer)
        await self.cancellation.register(job.generation_id, producer, reply.conversation_id)
        try:
            async for snapshot in self._coalesced(reply, producer, coalescer):
                await relay.send(snapshot)
                # After the owner's push: other tabs see it at the same cadence.
                await self.fanout.publish(reply.conversation_id, reply.message_id, snapshot)
            try:
                await producer
            except asyncio.CancelledError as exc:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # we are being cancelled ourselves
                if not reply.status.is_final:  # cancelled before it ever ran: Stop or shutdown
                    stopped = was_stopped_by_user(exc)
                    reply.finish(MessageStatus.CANCELLED if stopped else MessageStatus.INTERRUPTED)
        finally:
            if not producer.done():  # our own task was cancelled (shutdown): stop upstream too
                producer.cancel("generation abandoned")
                await asyncio.gather(producer, return_exceptions=True)
                reply.finish(MessageStatus.INTERRUPTED)
            self.cancellation.unregister(job.generation_id)
            self.live.remove(job.generation_id)
        finished = await self.turns.reply(job, reply, seq=started.user_message.seq + 1)
        await self.fanout.ended(
            reply.conversation_id, job.generation_id, reply.message_id, reply.status.value
        )
        # Counted and freed before the tab hears of the end: its next send finds them so.
        await self.quotas.record_tokens(job.owner, job.limits, billed_tokens(reply))
        await self.quotas.release_reply(job.generation_id)
        relay.post(finished)
        if finished.save_pending:  # the database refused it: kept (and checkpointed), retried
            owner = job.owner
            saved = await self.durability.retry_save(
                finished.message, lambda: self.turns.save(owner, finished.message)
            )
            relay.post(saved)

    def _request(self, job: GenerationJob, started: TurnStarted) -> ReplyRequest:
        """The conversation's own settings win over the server defaults in the job."""
        conv = started.conversation
        messages = build_messages(
            started.history, job.user_text, self.settings.history_max_chars, started.files
        )
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
        self, reply: LiveReply, producer: asyncio.Task[None], coalescer: PushCoalescer
    ) -> AsyncIterator[LiveSnapshot]:
        """Snapshots: the first token at once, then at most one per push interval, and
        none that would only move the elapsed time (that moves with the silent tick)."""
        loop = asyncio.get_running_loop()
        pushed_version, first_text_pushed = -1, False
        # What the tab shows before any push: the state's `begin` set it to "thinking".
        shown = LiveSnapshot(reply.generation_id, "", MessageStatus.THINKING.value, 0, 0.0)
        while not producer.done():
            changed = await reply.wait_for_change(pushed_version, TICK_S)
            if producer.done():
                break
            if reply.first_token_at is not None and not first_text_pushed:
                first_text_pushed = True  # no added first-token latency
            else:
                # Wait out the interval; the reply ending (finish() touches it) ends the wait.
                deadline = loop.time() + coalescer.wait_s(coalescer.clock())
                while not producer.done() and (left := deadline - loop.time()) > 0:
                    await reply.wait_for_change(reply.version, left)
                if producer.done():
                    break
            pushed_version, snapshot = reply.version, reply.snapshot()
            if changed and snapshot.looks_like(shown):
                continue  # e.g. the stream's opening frame: no push for the elapsed time alone
            # When it starts: the reader's next batch is timed by it.
            coalescer.pushed(coalescer.clock(), pushed_version)
            shown = snapshot
            yield snapshot


def billed_tokens(reply: LiveReply) -> int:
    """What counts against tokens per day: input, cache writes and output. Cache reads
    are left out, as in Anthropic's own rate limits (they cost a tenth of input)."""
    return (
        (reply.input_tokens or 0) + (reply.cache_creation_input_tokens or 0) + reply.output_tokens
    )


def _refused(job: GenerationJob, reply: LiveReply, refusal: Refusal) -> TurnFinished:
    """A turn a limit refused ends like any unsaved one: the tab shows why, the text
    goes back into the box."""
    kind = "unavailable" if refusal.kind == "draining" else "limit"
    error = ReplyError(kind, refusal.message, retry_after_s=refusal.retry_after_s)
    reply.finish(MessageStatus.FAILED, error)
    return TurnFinished(
        assistant_row(reply, seq=-1),
        user_turn_saved=False,
        user_text=job.user_text,
        error_kind=kind,
    )
