"""The simulator's pacing on a fake clock: token k is due at t0 + ttft + k/tps, pings fill
the silences, and a late frame doesn't push the later ones back (no drift)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from ai_chat.simulator.reply import Reply
from ai_chat.simulator.streaming import Pacer


class FakeTime:
    """A monotonic clock that moves only when the code under test sleeps, or a test moves it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _pacer(ttft: float, tps: float, ping: float = 0.0) -> tuple[Pacer, FakeTime, list[Any]]:
    clock = FakeTime()
    sent: list[tuple[float, bytes]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append((clock(), message["body"]))

    reply = cast(Reply, SimpleNamespace(opts=SimpleNamespace(ttft=ttft, tps=tps, ping=ping)))
    return Pacer(send, reply, clock=clock, sleep=clock.sleep), clock, sent


async def test_token_k_goes_out_at_ttft_plus_k_over_tps() -> None:
    pacer, _clock, sent = _pacer(ttft=0.2, tps=100)
    for k in range(20):
        await pacer.wait_until(pacer.due(k))
        await pacer.frame_bytes(b"token")
    assert [at - pacer.t0 for at, _ in sent] == pytest.approx([0.2 + k / 100 for k in range(20)])


async def test_a_late_frame_does_not_delay_the_next_ones() -> None:
    pacer, clock, sent = _pacer(ttft=0.0, tps=10)
    await pacer.wait_until(pacer.due(0))
    await pacer.frame_bytes(b"0")
    clock.now += 0.25  # the host stalls past token 1's and 2's due times
    for k in (1, 2, 3):
        await pacer.wait_until(pacer.due(k))
        await pacer.frame_bytes(b"k")
    offsets = [at - pacer.t0 for at, _ in sent]
    assert offsets == pytest.approx([0.0, 0.25, 0.25, 0.3])  # 1 and 2 at once, 3 on time


async def test_pings_fill_a_silence_and_the_token_still_comes_on_time() -> None:
    pacer, _clock, sent = _pacer(ttft=1.0, tps=10, ping=0.3)
    await pacer.wait_until(pacer.due(0))
    await pacer.frame_bytes(b"token")
    offsets = [round(at - pacer.t0, 6) for at, _ in sent]
    assert offsets == [0.3, 0.6, 0.9, 1.0]
    assert [b"ping" in body for _, body in sent] == [True, True, True, False]
