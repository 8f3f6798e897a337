"""A capacity step during which the wall clock jumped is measured again, not counted."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.scenarios import capacity


def _result(streams: int, lag_p99: float, clock_step_ms: float = 0.0) -> dict[str, Any]:
    p = {"p50": lag_p99 / 2, "p99": lag_p99}
    return {
        "streams": streams,
        "lag_ms": p,
        "lag_all_streaming_ms": p,
        "first_token_ms": p,
        "sim_late_ms": p,
        "send_to_first_ms": p,
        "turn_end_ms": p,
        "pushes_per_s": 1.0,
        "lost": 0,
        "dup": 0,
        "unfinished": 0,
        "cpu": {"server": 0.1, "simulator": 0.1, "generator": 0.1, "other": 0.0},
        "clock_step_ms": clock_step_ms,
    }


async def test_a_step_with_a_clock_jump_is_measured_again(monkeypatch) -> None:
    # What the suite saw once: every stream "late" by the wall clock's +6.65 s step.
    planned = {25: [_result(25, 6684, clock_step_ms=6650), _result(25, 50)], 50: [_result(50, 60)]}
    calls: list[int] = []

    async def fake_step(rig, streams, **kwargs) -> dict[str, Any]:
        calls.append(streams)
        return planned[streams].pop(0)

    monkeypatch.setattr(capacity, "step", fake_step)
    monkeypatch.setattr(capacity, "SETTLE_S", 0.0)
    lines: list[str] = []
    servers = [object()]  # the fake step never reaches them
    steps = await capacity.ramp(servers, [25, 50], sim_cpu=lambda: 0.0, log=lines.append)

    assert calls == [25, 25, 50]
    assert [s["lag_ms"]["p99"] for s in steps] == [50, 60]
    assert capacity.capacity(steps) == 50
    assert any("wall clock jumped +6650 ms" in line for line in lines)


def test_the_wall_clock_offset_moves_only_when_the_clock_is_stepped(monkeypatch) -> None:
    before = capacity.wall_minus_monotonic()
    assert abs(capacity.wall_minus_monotonic() - before) < 0.05
    real = time.time
    monkeypatch.setattr(capacity.time, "time", lambda: real() + 6.65)
    assert 6.6 < capacity.wall_minus_monotonic() - before < 6.7
