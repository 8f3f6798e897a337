"""The relay between a turn's task and whoever iterates `run()`: a snapshot waits until the
consumer asks for the next update (as a generator would), other updates never wait, and a
consumer that leaves (or a stream that ends) never holds the turn up."""

from __future__ import annotations

import asyncio

from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.generation.relay import Relay
from tests.conftest import wait_until


def snap(text: str) -> LiveSnapshot:
    return LiveSnapshot("g", text, "streaming", len(text), 0.0)


async def test_a_snapshot_waits_until_the_consumer_asks_for_the_next():
    relay = Relay()
    updates = relay.updates()
    sender = asyncio.create_task(relay.send(snap("a")))
    assert await anext(updates) == snap("a")
    await asyncio.sleep(0)
    assert not sender.done()  # the consumer is still busy with it
    asking = asyncio.create_task(anext(updates))  # it asks for the next: the sender goes on
    await asyncio.wait_for(sender, 5)
    relay.post(snap("b"))  # never waits
    assert await asking == snap("b")
    relay.close()
    assert [u async for u in updates] == []


async def test_a_consumer_that_leaves_never_holds_the_turn_up():
    relay = Relay()
    updates = relay.updates()
    sender = asyncio.create_task(relay.send(snap("a")))
    await anext(updates)
    await updates.aclose()  # the tab's task died
    await asyncio.wait_for(sender, 5)
    assert relay.gone
    await asyncio.wait_for(relay.send(snap("b")), 5)  # dropped at once
    relay.post(snap("c"))


async def test_the_end_of_the_stream_releases_a_waiting_snapshot():
    relay = Relay()
    updates = relay.updates()
    sender = asyncio.create_task(relay.send(snap("a")))
    await wait_until(lambda: relay._items, what="the snapshot handed over")
    relay.release()  # the stream ended while the consumer was stuck
    await asyncio.wait_for(sender, 5)
    await asyncio.wait_for(relay.send(snap("b")), 5)  # no waiting from now on
    relay.close()
    assert [u.text async for u in updates] == ["a", "b"]


async def test_a_stuck_consumer_stops_holding_the_turn_up_after_the_stall():
    """A tab whose pushes hang (Redis stopped answering mid-push) never asks again: after
    `stall_s` the turn goes on, and what piles up for it is the newest snapshot only."""
    relay = Relay(stall_s=0.05)
    updates = relay.updates()
    sender = asyncio.create_task(relay.send(snap("a")))
    assert await anext(updates) == snap("a")  # taken, and then the consumer hangs
    await asyncio.wait_for(sender, 5)  # released by the stall, not by the consumer
    for text in ("ab", "abc", "abcd"):
        await asyncio.wait_for(relay.send(snap(text)), 5)  # none of them waits
    relay.close()
    assert [u.text async for u in updates] == ["abcd"]
