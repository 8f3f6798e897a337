"""The checkpoint round: what it writes of the replies in flight (a store that records each
write stands in for the database or Redis, which tests/generation/test_durability.py uses)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from ai_chat.generation.checkpoints import Checkpointer, Saved
from ai_chat.generation.live_reply import LiveReply
from ai_chat.llm.events import TextDelta
from ai_chat.store import inflight


@dataclasses.dataclass
class RecordingStore:
    writes: list[tuple[list[inflight.Checkpoint], list[str]]] = dataclasses.field(
        default_factory=list
    )

    async def write(
        self, checkpoints: Sequence[inflight.Checkpoint], renew: Sequence[str], lease_s: float
    ) -> None:
        self.writes.append((list(checkpoints), list(renew)))

    async def beats(self, message_ids: Sequence[str]) -> dict[str, float]:
        return {}

    async def claim_sweep(self, interval_s: float) -> bool:
        return True

    async def read(self, message_ids: Sequence[str]) -> dict[str, Saved]:
        return {}

    async def forget(self, message_ids: Sequence[str]) -> None:
        return None


def reply(age_s: float, text: str) -> LiveReply:
    live = LiveReply("g-" + text, "c", "m-" + text, "model")
    live.started_at = time.monotonic() - age_s
    live.apply(TextDelta(text, 0, 1))
    return live


async def test_a_reply_younger_than_the_interval_costs_no_write():
    young, old = reply(0.0, "young"), reply(120.0, "old")
    store = RecordingStore()
    checkpointer = Checkpointer(store, lambda: [young, old], interval_s=60.0, lease_s=5.0)
    await checkpointer.checkpoint()
    [(written, renewed)] = store.writes
    assert [c.message_id for c in written] == ["m-old"] and renewed == []
    assert written[0].text == "old" and not written[0].append

    young.started_at -= 61  # an interval later: it has text to lose now
    old.apply(TextDelta(" more", 1, 1))
    await checkpointer.checkpoint()
    written, renewed = store.writes[-1]
    assert {(c.message_id, c.text, c.append) for c in written} == {
        ("m-young", "young", False),
        ("m-old", " more", True),  # only what it gained
    }


async def test_shutdown_writes_the_young_ones_too():
    young = reply(0.0, "young")
    store = RecordingStore()
    checkpointer = Checkpointer(store, lambda: [young], interval_s=60.0, lease_s=5.0)
    await checkpointer.checkpoint()
    assert store.writes == []
    await checkpointer.stop()
    [(written, _)] = store.writes
    assert [(c.message_id, c.text) for c in written] == [("m-young", "young")]
