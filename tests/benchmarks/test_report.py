"""How the report reads a capacity ramp: the bound passed, or never reached."""

from benchmarks.report import _streams
from benchmarks.scenarios.capacity import capacity


def _step(streams: int, p99: float, lost: int = 0) -> dict:
    return {"streams": streams, "lag_ms": {"p99": p99}, "lost": lost, "dup": 0}


def test_capacity_is_the_last_step_within_the_bound():
    steps = [_step(100, 120), _step(200, 240), _step(300, 410), _step(400, 600)]
    assert capacity(steps) == 200
    assert _streams(capacity(steps), steps) == "200"


def test_a_ramp_that_never_passed_the_bound_gives_a_lower_bound():
    steps = [_step(100, 120), _step(200, 210)]
    assert _streams(capacity(steps), steps) == "≥ 200 (every step)"


def test_a_step_that_lost_characters_is_not_within_the_bound():
    steps = [_step(100, 120), _step(200, 130, lost=3)]
    assert capacity(steps) == 100
    assert _streams(100, steps) == "100"


def test_no_ramp_shows_a_dash():
    assert _streams(0, None) == "—"
