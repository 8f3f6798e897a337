"""How many of a tab's new messages stay apart from its loaded history (`fold_limit`)."""

from collections.abc import Callable

import pytest

from ai_chat.state.chat import MIN_FOLD_MESSAGES, fold_limit


def resent_messages(history: int, appends: int, limit: Callable[[int], int]) -> int:
    """Messages sent to the browser over `appends` appends, as `ChatState._add_message` does
    it: a fold resends the whole history, every append resends the new messages."""
    sent, new = 0, 0
    for _ in range(appends):
        if new >= limit(history):
            history, new = history + new, 0
            sent += history
        new += 1
        sent += new
    return sent


def test_short_chats_fold_at_the_minimum_and_long_ones_rarely() -> None:
    assert fold_limit(0) == MIN_FOLD_MESSAGES
    assert fold_limit(1000) == 45  # √2000
    assert fold_limit(10_000) > fold_limit(1000) > fold_limit(100)


@pytest.mark.parametrize("history", [0, 20, 100, 1000, 5000])
def test_no_fixed_limit_resends_much_less_over_100_turns(history: int) -> None:
    ours = resent_messages(history, 200, fold_limit)
    best_fixed = min(resent_messages(history, 200, lambda _, f=f: f) for f in range(1, 300))
    assert ours <= 1.1 * best_fixed


@pytest.mark.parametrize("history", [0, 20, 100])
def test_short_chats_resend_less_than_with_the_old_fixed_forty(history: int) -> None:
    ours = resent_messages(history, 200, fold_limit)
    assert ours < 0.85 * resent_messages(history, 200, lambda _: 40)
