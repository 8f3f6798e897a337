"""state/_reflex_seam.py, both ways: past Reflex's proxies (the default) and through them
(the stock path, `state_proxy_bypass` off). If a Reflex upgrade changes what the seam
relies on, these fail instead of the app silently taking the slower stock path."""

from __future__ import annotations

from typing import Any

import pytest
from reflex.istate.manager.token import BaseStateToken
from reflex.istate.proxy import MutableProxy, StateProxy
from reflex.state import State

from ai_chat.state import _reflex_seam
from ai_chat.state.live import LiveState
from ai_chat.state.sidebar import ConversationItem, SidebarState
from tests.state.hostile import substate
from tests.state.test_send_stream import wait_idle


@pytest.fixture(params=["bypass", "stock"])
def bypass(request, monkeypatch) -> bool:
    on = request.param == "bypass"
    monkeypatch.setattr(_reflex_seam, "bypass_on", lambda: on)
    return on


async def test_a_background_task_works_on_the_state_the_proxy_holds(tab, sim, bypass, monkeypatch):
    seen: list[tuple[Any, Any]] = []
    real = _reflex_seam.unproxied

    def spy(state):
        inner = real(state)
        seen.append((state, inner))
        return inner

    monkeypatch.setattr("ai_chat.state.live.unproxied", spy)
    await tab.open()
    await tab.send("hello [[sim tokens=20 tps=1000 ttft=0]]")
    await wait_idle(tab)

    assert seen, "`generate` went through the seam"
    for given, used in seen:
        assert isinstance(given, StateProxy)  # what Reflex hands a background task
        if bypass:  # the tab's state itself, as an ordinary handler gets it
            assert not isinstance(used, StateProxy) and isinstance(used, LiveState)
        else:
            assert used is given
    chat = await tab.chat()
    assert [m.status for m in chat._shown_messages()] == ["complete", "complete"]


async def test_the_sidebar_reads_its_list_as_stored(tab, bypass):
    await tab.open()
    token = BaseStateToken(ident=tab.token, cls=State)
    async with tab.manager.modify_state(token) as root:
        sidebar = await root.get_state(SidebarState)
        sidebar.items = [ConversationItem("0" * 32, "first")]
        items = sidebar.items
        assert isinstance(items, MutableProxy)  # what Reflex hands out for a list var
        read = _reflex_seam.plain_list(items)
        if bypass:
            assert type(read) is list and type(read[0]) is ConversationItem
        else:
            assert read is items
        # Both ways the turn's end lists a conversation first, as a refresh would.
        assert sidebar._bring_to_top("1" * 32, "second")
        assert [i.title for i in sidebar.items] == ["second", "first"]


async def test_a_tab_is_told_when_its_session_ends(tab, monkeypatch):
    """`tab_state_token` reaches a tab's state outside an event (state/auth.py)."""
    from types import SimpleNamespace

    from ai_chat.auth import identity
    from ai_chat.state import auth

    await tab.open()
    await tab.fire(auth.AuthState, "guard")
    assert (await substate(tab, auth.AuthState)).signed_in
    who = await identity.resolve(tab.cookie)
    assert who is not None and who.session_id
    monkeypatch.setattr(auth, "_app", SimpleNamespace(modify_state=tab.manager.modify_state))

    assert await auth.sign_out_tabs([who.session_id], "Signed out elsewhere.") == 1
    told = await substate(tab, auth.AuthState)
    assert not told.signed_in and told.notice == "Signed out elsewhere."


def test_the_live_reply_is_a_substate_of_the_chat_with_its_own_vars():
    """`LiveVars` is a Reflex state mixin deriving from ChatState (state/live_vars.py): its
    vars must be bound to LiveState, a substate of the chat, so that a push of the reply in
    flight never carries the history."""
    from ai_chat.state.chat import ChatState
    from ai_chat.state.live_vars import LiveVars

    assert LiveState.get_parent_state() is ChatState
    assert ChatState.get_substates() == {LiveState}
    own = {"generating", "watching", "live_text_head", "live_text_tail", "announcement"}
    assert own <= set(LiveState.base_vars) and not own & set(ChatState.base_vars)
    for name in ("generating", "_watch_token", "_who"):
        assert LiveState.__fields__[name]._owner is LiveState
    assert LiveState.__fields__["messages"]._owner is ChatState
    assert LiveVars._mixin  # never instantiated, not in the state tree
