"""Turn-start slots: a crowd's starts queue in a few slots; a slot is never leaked."""

from __future__ import annotations

import asyncio

import pytest

from ai_chat.generation import runtime
from ai_chat.generation.job import TurnStarted
from ai_chat.generation.start_slots import TurnStartSlots
from tests.generation.helpers import make_job, run_turn, stored_messages

QUICK = " [[sim tokens=3 tps=1000 ttft=0]]"


async def settle() -> None:
    """Let every task that can run, run (wake-ups are call_soon callbacks)."""
    for _ in range(20):
        await asyncio.sleep(0)


class Occupancy:
    """Tasks holding a slot until released, and the most ever inside at once."""

    def __init__(self, slots: TurnStartSlots) -> None:
        self.slots, self.inside, self.most = slots, 0, 0
        self.release = asyncio.Event()

    async def hold(self, fail: bool = False) -> None:
        async with self.slots.slot():
            self.inside += 1
            self.most = max(self.most, self.inside)
            try:
                await self.release.wait()
                if fail:
                    raise RuntimeError("start failed")
            finally:
                self.inside -= 1


@pytest.mark.parametrize(("limit", "at_once"), [(2, 2), (1, 1), (0, 6)])
async def test_at_most_limit_starts_at_once_and_the_rest_follow(limit, at_once):
    room = Occupancy(TurnStartSlots(limit))  # 0: no bound, all six at once
    tasks = [asyncio.create_task(room.hold()) for _ in range(6)]
    await settle()
    assert room.inside == at_once
    room.release.set()
    await asyncio.gather(*tasks)
    assert room.most == at_once and room.inside == 0


async def test_a_failed_or_cancelled_start_frees_its_slot():
    slots = TurnStartSlots(1)
    room = Occupancy(slots)
    failing = asyncio.create_task(room.hold(fail=True))
    waiting = asyncio.create_task(room.hold())  # queued behind it, then cancelled
    await settle()
    waiting.cancel()
    room.release.set()
    with pytest.raises(RuntimeError):
        await failing
    with pytest.raises(asyncio.CancelledError):
        await waiting
    async with asyncio.timeout(5):  # a leaked slot would hang here
        async with slots.slot():
            pass


def test_one_instance_serves_several_event_loops():
    slots = TurnStartSlots(1)

    async def use() -> int:
        room = Occupancy(slots)
        room.release.set()
        await asyncio.gather(*(room.hold() for _ in range(3)))
        return room.most

    assert asyncio.run(use()) == 1
    assert asyncio.run(use()) == 1  # a semaphore bound to the first loop would raise


async def test_a_second_turn_starts_once_the_first_is_streaming(app_env, monkeypatch):
    app_env(turn_starts="1")
    service = runtime.get_service()
    entered: list[str] = []  # whose user turn began to be stored
    store_user_turn = service.turns.store_user_turn

    async def recording(job, *args):
        entered.append(job.user_text.split()[0])
        return await store_user_turn(job, *args)

    monkeypatch.setattr(service.turns, "store_user_turn", recording)
    first = service.run(make_job("first" + QUICK))
    assert isinstance(await anext(first), TurnStarted)  # it holds the only slot here
    second = asyncio.create_task(run_turn(make_job("second" + QUICK)))
    await settle()
    assert entered == ["first"]  # the second waits for the slot
    async for _ in first:  # the first turn goes on to stream and finish
        pass
    async with asyncio.timeout(30):
        result = await second
    assert entered == ["first", "second"]
    assert result.finished.message.status == "complete"


async def test_a_turn_whose_user_turn_cannot_be_stored_frees_its_slot(app_env):
    app_env(turn_starts="1")
    broken = await run_turn(make_job("to nowhere" + QUICK, conversation_id="no-such-id"))
    assert broken.finished.user_turn_saved is False
    assert broken.finished.conversation_deleted  # told why, not "try again"
    assert "was deleted" in (broken.finished.message.error or "")
    async with asyncio.timeout(30):
        ok = await run_turn(make_job("next" + QUICK))
    assert ok.finished.message.status == "complete"
    rows = await stored_messages(ok.started.conversation_id)
    assert [m.role for m in rows] == ["user", "assistant"]
