"""Limits where the work is done: the real runner against the simulator refuses a turn
beyond a limit before anything is stored or sent, says why and when, and gives the text
back. On this worker's memory and on Redis (as several workers share them)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from ai_chat.generation import runtime
from ai_chat.generation.job import GenerationJob, TurnStarted
from ai_chat.limits import Quotas, UserLimits
from tests.conftest import redis_or_missing, wait_until
from tests.generation.helpers import (
    TurnResult,
    make_job,
    run_turn,
    start_turn,
    stored_messages,
    unique_tag,
)

QUICK = " [[sim tokens=5 tps=1000 ttft=0]]"
LONG = " [[sim tokens=3000 tps=100 ttft=0]]"
KEEP = "Your text is still in the box."


@pytest.fixture(params=["memory", "redis"])
async def limited(request, app_env, sim) -> AsyncIterator[Callable[..., None]]:
    """`limited(concurrent_replies="3", …)`: the server's limits for this test's turns."""
    shared = {"redis_url": await redis_or_missing()} if request.param == "redis" else {}
    prefix = f"ai_chat:test:{uuid.uuid4().hex[:12]}"  # this test's keys, removed after it

    def configure(settings: dict[str, str] | None = None, **limits: str) -> None:
        limit_env = {f"limit_{name}": value for name, value in limits.items()}
        app_env(**shared, **(settings or {}), **limit_env)
        service = runtime.get_service()
        assert service.quotas.shared == bool(shared)
        service.quotas = Quotas(service.settings, key_prefix=prefix)

    configure()
    yield configure
    service = runtime.get_service()
    await service.quotas.close()
    if shared:
        await service.cancellation.close()
        client = aioredis.Redis.from_url(shared["redis_url"])
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def job_of(owner: str, text: str, conversation_id: str | None = None) -> GenerationJob:
    return make_job(text, conversation_id, owner=owner)


def assert_refused(result: TurnResult, job: GenerationJob, *phrases: str) -> str:
    """Nothing stored, nothing sent; the tab is told why and gets the text back."""
    assert not any(isinstance(u, TurnStarted) for u in result.updates)
    finished = result.finished
    assert finished.user_turn_saved is False
    assert finished.user_text == job.user_text
    assert finished.message.status == "failed"
    error = finished.message.error or ""
    for phrase in phrases:
        assert phrase in error, error
    assert error.endswith(KEEP)
    return error


async def _started(updates: list) -> TurnStarted:
    await wait_until(lambda: any(isinstance(u, TurnStarted) for u in updates), what="a start")
    return next(u for u in updates if isinstance(u, TurnStarted))


async def _stop_all(jobs_and_tasks) -> None:
    service = runtime.get_service()
    for job, task in jobs_and_tasks:
        await service.cancellation.request_stop(job.generation_id)
        await asyncio.wait_for(task, 10)


async def test_a_fourth_reply_at_once_is_refused(limited, sim):
    limited(concurrent_replies="3")
    owner = unique_tag()
    running = []
    for i in range(3):
        job = job_of(owner, f"long {i}{LONG}")
        task, updates = start_turn(job)
        await _started(updates)
        running.append((job, task))
    fourth = job_of(owner, "one more please" + QUICK)
    assert_refused(await run_turn(fourth), fourth, "You already have 3 replies in progress")
    # Someone else is not limited by it.
    other = await run_turn(job_of(unique_tag(), "mine" + QUICK))
    assert other.finished.message.status == "complete"
    # One ends: the next may start.
    await _stop_all(running[:1])
    fifth = await run_turn(job_of(owner, "now?" + QUICK))
    assert fifth.finished.message.status == "complete"
    await _stop_all(running[1:])
    service = runtime.get_service()
    assert not any(service.quotas.slots.holds(job.generation_id) for job, _ in running)


async def test_a_second_reply_in_one_conversation_is_refused(limited, sim):
    owner = unique_tag()
    # A conversation the reply creates is held from the moment it exists...
    first = job_of(owner, "start" + LONG)
    task, updates = start_turn(first)
    cid = (await _started(updates)).conversation_id
    forged = job_of(owner, "a second reply at once" + QUICK, cid)
    assert_refused(await run_turn(forged), forged, "still replying in this conversation")
    # ...an edit of it too (another tab),
    edit = dataclasses.replace(
        job_of(owner, "edited" + QUICK, cid),
        version_of=(await _started(updates)).user_message.id,
    )
    assert_refused(await run_turn(edit), edit, "still replying in this conversation")
    await _stop_all([(first, task)])
    rows = await stored_messages(cid, owner=owner)
    assert [(m.role, m.status) for m in rows] == [("user", "complete"), ("assistant", "cancelled")]
    # ...and an existing one while a reply streams in it.
    second = job_of(owner, "again" + LONG, cid)
    task, updates = start_turn(second)
    await _started(updates)
    third = job_of(owner, "and again" + QUICK, cid)
    assert_refused(await run_turn(third), third, "still replying in this conversation")
    await _stop_all([(second, task)])
    after = await run_turn(job_of(owner, "after" + QUICK, cid))
    assert after.finished.message.status == "complete"
    assert len(await stored_messages(cid, owner=owner)) == 6


async def test_messages_per_minute_refuse_with_the_wait(limited, sim):
    limited(messages_per_minute="2")
    owner = unique_tag()
    first = await run_turn(job_of(owner, "one" + QUICK))
    cid = first.started.conversation_id
    await run_turn(job_of(owner, "two" + QUICK, cid))
    third = job_of(owner, "three" + QUICK, cid)
    error = assert_refused(await run_turn(third), third, "You've sent 2 messages in the last")
    wait = int(re.search(r"send again in (\d+) s", error).group(1))
    assert 0 < wait <= 60
    assert len(await stored_messages(cid, owner=owner)) == 4  # the third stored nothing


async def test_tokens_per_day_refuse_with_the_wait(limited, sim):
    limited(tokens_per_day="50")
    owner = unique_tag()
    # Under the limit: this reply may run, and it goes over.
    first = await run_turn(job_of(owner, "spend" + " [[sim tokens=60 tps=1000 ttft=0]]"))
    message = first.finished.message
    assert message.status == "complete"
    used = await runtime.get_service().quotas.tokens_used(owner)
    cache_writes = message.cache_creation_input_tokens or 0
    assert used == (message.input_tokens or 0) + cache_writes + message.output_tokens >= 60
    cid = first.started.conversation_id
    next_job = job_of(owner, "more" + QUICK, cid)
    error = assert_refused(await run_turn(next_job), next_job, "You've used your daily 50 tokens")
    assert re.search(r"send again in \d+ (s|min|h)", error)
    # An admin raises this user's limit: the next turn goes ahead.
    raised = dataclasses.replace(next_job, limits=UserLimits(30, 3, 10_000))
    assert (await run_turn(raised)).finished.message.status == "complete"


async def test_a_stopped_or_failed_reply_frees_its_slots_and_counts_its_tokens(limited, sim):
    limited(concurrent_replies="1")
    owner = unique_tag()
    quotas = runtime.get_service().quotas
    failed = job_of(owner, "fail [[sim error=500]]")
    result = await run_turn(failed)
    assert result.finished.message.status == "failed" and result.finished.user_turn_saved
    assert not quotas.slots.holds(failed.generation_id)
    stopped = job_of(owner, "stop me" + LONG)
    task, updates = start_turn(stopped)
    await wait_until(lambda: len(updates) > 1, what="some text")
    await _stop_all([(stopped, task)])
    assert not quotas.slots.holds(stopped.generation_id)
    assert await quotas.tokens_used(owner) > 0  # the stopped reply's estimate
    assert (await run_turn(job_of(owner, "next" + QUICK))).finished.message.status == "complete"


async def test_a_refused_turn_frees_its_turn_start(limited, sim):
    limited({"turn_starts": "1"}, messages_per_minute="1")
    owner = unique_tag()
    await run_turn(job_of(owner, "one" + QUICK))
    refused = job_of(owner, "two" + QUICK)
    assert_refused(await run_turn(refused), refused, "You've sent 1 message in the last")
    async with asyncio.timeout(10):
        other = await run_turn(job_of(unique_tag(), "someone else" + QUICK))
    assert other.finished.message.status == "complete"
