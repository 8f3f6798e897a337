"""Cross-worker stop: a Stop handled by another worker still closes the upstream request."""

from __future__ import annotations

import asyncio
import time

import pytest

from ai_chat.config import get_settings
from ai_chat.generation import runtime
from ai_chat.generation.live_reply import LiveReplies, LiveSnapshot
from ai_chat.generation.redis_cancellation import RedisCancellation
from ai_chat.generation.runner import GenerationService
from tests.conftest import REDIS_URL, redis_or_missing, wait_until
from tests.generation.helpers import make_job, unique_tag
from tests.generation.test_runner_stop import SILENCE_S

pytestmark = pytest.mark.redis  # two workers sharing the local Redis


@pytest.fixture
async def two_workers(app_env):
    await redis_or_missing()
    workers = []
    for _ in range(2):
        cancellation = RedisCancellation(REDIS_URL)
        workers.append(
            GenerationService(
                settings=get_settings(),
                client_lease=runtime.client_lease,
                cancellation=cancellation,
                live=LiveReplies(),
            )
        )
    yield workers
    for worker in workers:
        await worker.cancellation.close()


async def _consume(service, job, updates):
    async for update in service.run(job):
        updates.append(update)


@pytest.mark.parametrize("silent", [False, True], ids=["mid-stream", "silent-first-token"])
async def test_stop_on_another_worker_closes_the_stream(two_workers, sim, silent):
    owner, other = two_workers
    tag = unique_tag()
    directive = f"ttft={SILENCE_S} ping=0" if silent else "ttft=0 tps=100"
    job = make_job(f"cross [[sim tokens=3000 {directive} tag={tag}]]")
    updates: list = []
    task = asyncio.create_task(_consume(owner, job, updates))
    await sim.recorder.wait_for_async(lambda r: r.tag == tag, timeout=5)
    if not silent:
        await wait_until(lambda: any(isinstance(u, LiveSnapshot) and u.text for u in updates))
    await wait_until(lambda: owner.cancellation.is_running(job.generation_id))

    stop_at = time.time()
    assert not other.cancellation.is_running(job.generation_id)
    assert await other.cancellation.request_stop(job.generation_id)
    record = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.disconnected_at is not None, timeout=SILENCE_S / 2
    )
    await asyncio.wait_for(task, 10)
    # Closed after the stop and before the simulator's next scheduled moment: the end of
    # the silence, or the last of 3000 tokens.
    assert stop_at <= record.disconnected_at < record.arrived_at + SILENCE_S
    assert record.tokens_sent < 3000
    assert updates[-1].message.status == "cancelled"


async def test_stop_published_before_the_task_starts_is_not_lost(two_workers, sim):
    owner, other = two_workers
    job = make_job("early [[sim tokens=500 tps=50 ttft=0]]")
    await other.cancellation.request_stop(job.generation_id)
    updates: list = []
    await asyncio.wait_for(_consume(owner, job, updates), 10)
    assert updates[-1].message.status == "cancelled"


async def test_deleting_a_conversation_on_another_worker_stops_its_replies(two_workers, sim):
    from ai_chat.generation.job import TurnStarted

    owner, other = two_workers
    tag = unique_tag()
    job = make_job(f"doomed [[sim tokens=3000 ttft=0 tps=100 tag={tag}]]")
    updates: list = []
    task = asyncio.create_task(_consume(owner, job, updates))
    await wait_until(lambda: any(isinstance(u, LiveSnapshot) and u.text for u in updates))
    (started,) = [u for u in updates if isinstance(u, TurnStarted)]

    await other.cancellation.stop_conversation(started.conversation_id)
    record = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.disconnected_at is not None, timeout=5
    )
    assert record.outcome == "disconnected"
    await asyncio.wait_for(task, 10)
    assert updates[-1].message.status == "cancelled"
