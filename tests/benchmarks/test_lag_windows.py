"""Delivery lag per token, and the window in which every stream of a step is sending."""

import pytest

from ai_chat.simulator.script import TOKEN_CHARS
from benchmarks import measure
from benchmarks.users import Turn


def test_each_token_lags_from_its_own_send_time_to_the_push_that_first_carried_it():
    turn = Turn(tokens=4, tps=10)
    # tokens 0-1 arrive in a push at t=100.25, tokens 2-3 at t=100.5; a repeat adds nothing
    turn.text_pushes = [
        (100.25, 2 * TOKEN_CHARS, 0),
        (100.5, 4 * TOKEN_CHARS, 0),
        (100.6, 4 * TOKEN_CHARS, 0),
    ]
    lags = measure.token_lags(turn, {"first_token_at": 100.0})
    assert [sent for sent, _ in lags] == pytest.approx([100.0, 100.1, 100.2, 100.3])
    assert [lag for _, lag in lags] == pytest.approx([250, 150, 300, 200])
    assert measure.delivery_lags_ms(turn, {"first_token_at": 100.0}) == [lag for _, lag in lags]
    assert measure.token_lags(turn, {}) == []


def test_all_streaming_is_from_the_last_first_token_to_the_first_last_token():
    assert measure.all_streaming([(0.0, 12.0), (2.0, 14.0), (1.0, 13.0)]) == (2.0, 12.0)
    assert measure.all_streaming([(0.0, 1.0), (2.0, 3.0)]) is None  # never all at once
    assert measure.all_streaming([]) is None


def test_lags_within_keeps_only_tokens_sent_inside_the_window():
    lags = [(0.5, 900.0), (2.0, 210.0), (5.0, 190.0), (12.5, 40.0)]
    assert measure.lags_within(lags, (2.0, 12.0)) == [210.0, 190.0]
    assert measure.lags_within(lags, None) == []


def test_with_several_tokens_per_delta_a_token_leaves_when_its_delta_does():
    # The simulator sends a delta when its last token is due; the last delta may be short.
    turn = Turn(tokens=7, tps=10, chunk=3)
    offsets = [turn.sent_after_first_s(k) for k in range(7)]
    assert offsets == pytest.approx([0, 0, 0, 0.3, 0.3, 0.3, 0.4])
    assert "chunk=3" in turn.prompt
    assert "chunk" not in Turn(tokens=7, tps=10).prompt  # one per delta: the default
    turn.text_pushes = [(100.5, 7 * TOKEN_CHARS, 0)]
    lags = measure.token_lags(turn, {"first_token_at": 100.0})
    assert [lag for _, lag in lags] == pytest.approx([500, 500, 500, 200, 200, 200, 100])
