"""Drive a GenerationService turn the way the state does, collecting what it yields."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

from ai_chat.generation import runtime
from ai_chat.generation.job import GenerationJob, TurnFinished, TurnStarted, Update
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.generation.runner import GenerationService
from ai_chat.store import conversations as store
from ai_chat.store.db import session_scope
from ai_chat.store.models import Message

OWNER = "tester"


def unique_tag() -> str:
    return uuid.uuid4().hex[:10]


def make_job(text: str, conversation_id: str | None = None, owner: str = OWNER) -> GenerationJob:
    settings = runtime.get_service().settings
    return GenerationJob(
        owner=owner,
        conversation_id=conversation_id,
        user_text=text,
        generation_id=uuid.uuid4().hex,
        assistant_message_id=uuid.uuid4().hex,
        model=settings.model,
        max_tokens=settings.max_output_tokens,
    )


@dataclasses.dataclass
class TurnResult:
    updates: list[Update]

    @property
    def started(self) -> TurnStarted:
        return next(u for u in self.updates if isinstance(u, TurnStarted))

    @property
    def finished(self) -> TurnFinished:
        last = self.updates[-1]
        assert isinstance(last, TurnFinished), last
        return last

    @property
    def snapshots(self) -> list[LiveSnapshot]:
        return [u for u in self.updates if isinstance(u, LiveSnapshot)]


async def run_turn(
    job: GenerationJob, on_update=None, service: GenerationService | None = None
) -> TurnResult:
    updates: list[Update] = []
    async for update in (service or runtime.get_service()).run(job):
        updates.append(update)
        if on_update is not None:
            await on_update(update)
    return TurnResult(updates)


def start_turn(
    job: GenerationJob, service: GenerationService | None = None
) -> tuple[asyncio.Task, list[Update]]:
    """Run a turn in the background; the list fills as updates arrive."""
    updates: list[Update] = []

    async def consume() -> TurnResult:
        async for update in (service or runtime.get_service()).run(job):
            updates.append(update)
        return TurnResult(updates)

    return asyncio.create_task(consume()), updates


async def stored_messages(conversation_id: str, owner: str = OWNER) -> list[Message]:
    async with session_scope() as session:
        return list(await store.list_messages(session, owner, conversation_id))


def worker_apart() -> GenerationService:
    """Another worker whose limits are its own, as while Redis is down: the one place two
    replies can still run in one conversation."""
    from ai_chat.generation.cancellation import LocalCancellation
    from ai_chat.generation.live_reply import LiveReplies

    service = runtime.get_service()
    return GenerationService(
        settings=service.settings,
        client_lease=runtime.client_lease,
        cancellation=LocalCancellation(),
        live=LiveReplies(),
    )
