"""Benchmark users are signed-in accounts, and a turn a limit refused is an error."""

from __future__ import annotations

import asyncio

import pytest

from ai_chat.limits.refusal import too_many_messages
from benchmarks.accounts import NO_ACCOUNT, Account
from benchmarks.apps import AppProfile
from benchmarks.users import ChatUser, Turn, TurnRefused

APP = AppProfile(
    name="app",
    send_event="s.send",
    stop_event="s.stop",
    history_state="s.chat",
    live_state="s.live",
    turns_var="new_messages",
)


def test_the_handshake_carries_the_session_cookie_and_the_page_origin() -> None:
    user = ChatUser(APP, 8123, account=Account("bench0001", "u1", "ai_chat_session=tok"))
    assert (b"cookie", b"ai_chat_session=tok") in user.tab.headers
    assert (b"origin", b"http://127.0.0.1:8123") in user.tab.headers
    naive = ChatUser(APP, 8123, account=NO_ACCOUNT)
    assert [name for name, _ in naive.tab.headers] == [b"origin"]


async def test_a_turn_refused_by_a_limit_fails_the_measurement(monkeypatch) -> None:
    user = ChatUser(APP, 8123, account=Account("bench0001", "u1", "c=1"))
    message = too_many_messages(30, 12).message

    async def send(turn: Turn) -> None:  # the server's answer: the turn ends, nothing stored
        user.turn = turn
        events = [{"name": "_call_function", "payload": {"function": f"toast.error({message!r})"}}]
        push = {"delta": {"s.live": {"generating_rx_state_": False}}, "events": events}
        asyncio.get_running_loop().call_soon(user._on_push, push, 100, 0.0)

    monkeypatch.setattr(user, "send", send)
    with pytest.raises(TurnRefused, match="you can send again"):
        await user.run_turn(Turn(tokens=5, tps=100), timeout=5)
    assert user.turn is not None and user.turn.refused.endswith("still in the box.")


async def test_a_turn_ending_without_a_refusal_is_not_one() -> None:
    user = ChatUser(APP, 8123)
    user.turn = turn = Turn(tokens=5, tps=100)
    user._on_push({"delta": {"s.live": {"generating_rx_state_": False}}, "events": []}, 10, 0.0)
    assert turn.done.is_set() and not turn.refused
