"""An error is said once: in the reply's bubble when the tab shows it, else by a toast."""

from __future__ import annotations

from ai_chat.generation.job import TurnFinished
from ai_chat.state.reply_ending import Ending, told_at_end
from ai_chat.store.models import MessageRow, MessageStatus

ERROR = "Claude is overloaded right now. Try again in 7 s."


def _failed() -> TurnFinished:
    row = MessageRow("c1", 1, "assistant", status=MessageStatus.FAILED.value, error=ERROR)
    return TurnFinished(row)


def _toasts(events: list) -> list[str]:
    return [str(e) for e in events if "toast" in str(e)]


def test_a_failed_reply_shown_in_the_tab_gets_no_toast():
    ending = Ending("", True, False, shown=True)
    assert _toasts(told_at_end(_failed(), ending)) == []


def test_a_failed_reply_the_tab_does_not_show_is_said_by_a_toast():
    ending = Ending("", True, False, shown=False)  # e.g. the user opened another chat
    toasts = _toasts(told_at_end(_failed(), ending))
    assert len(toasts) == 1 and "overloaded" in toasts[0]
