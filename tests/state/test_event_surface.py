"""Every event handler any socket can call: a reviewed list, and bad payloads for each.

A handler added to a state without being reviewed here (and given payload checks) fails
`test_every_handler_is_reviewed`. Payloads are checked server-side: wrong types, foreign or
malformed ids, oversized strings get a clear message (or change nothing), and the tab keeps
working afterwards."""

from __future__ import annotations

from typing import Any

import pytest
import reflex as rx

import ai_chat.ai_chat  # noqa: F401 - registers every page's states
from ai_chat.state.account import AccountState
from ai_chat.state.admin import AdminState
from ai_chat.state.attachments import AttachmentsState
from ai_chat.state.auth import AuthState
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.settings import SettingsState
from ai_chat.state.sidebar import SidebarState
from tests.state.test_send_stream import wait_idle

# Reflex's own handlers on its internal states (hydration, on_load, frontend errors).
REFLEX_INTERNAL = {
    "hydrate",
    "set_is_hydrated",
    "hydrate_and_load",
    "update_vars_internal",
    "on_load_internal",
    "handle_frontend_exception",
}

# handler -> how it is protected (reviewed by hand). "none" takes no payload.
REVIEWED: dict[str, str] = {
    "*.setvar": "no setters exist (state_auto_setters off): test_setvar_sets_nothing",
    "ChatState.export": "fmt in {md,json}; owner-scoped",
    "ChatState.new_chat": "none",
    "ChatState.start_edit": "message id format; only a message shown in this tab",
    "ChatState.cancel_edit": "none",
    "LiveState.load_route": "route id checked; owner-scoped read (test_isolation)",
    "LiveState.send": "form dict of str; length limit; signed in; limits in the runner",
    "LiveState.regenerate": "none; signed in; owner-scoped in the runner",
    "LiveState.continue_reply": "none; signed in",
    "LiveState.save_edit": "form dict of str; the message being edited, shown here; length",
    "LiveState.switch_version": "id format, direction -1/1; a message shown here; owner-scoped",
    "LiveState.confirm_delete": "owner-scoped; a foreign id stops nothing",
    "LiveState.stop": "none; only this tab's own generation",
    "LiveState.generate": "none; runs only a turn `_begin` set up, once (_claimed)",
    "LiveState.watch": "none; runs only a watcher the server set up, once; owner-scoped reads",
    "LiveState.settle_stop": "none; acts only on this tab's Stop in progress",
    "LiveState.check_live": "none; at most every 2 s; a watcher for the conversation shown",
    "AttachmentsState.attach": "id format; signed in; only the user's own unsent upload; count",
    "AttachmentsState.remove": "id format; only a file of this tab's tray; owner-scoped delete",
    "AuthState.guard": "none; identity from the handshake's cookie",
    "AdminState.load": "admin only",
    "AdminState.create_user": "form; admin only; username/password rules",
    "AdminState.set_status": "user id format, status enum; admin only",
    "AdminState.edit": "user id format",
    "AdminState.close_edit": "none",
    "AdminState.save_user": "form; numbers only; admin only",
    "AdminState.create_invite": "admin only",
    "SidebarState.toggle_mobile": "none",
    "SidebarState.refresh": "none; owner-scoped",
    "SidebarState.search": "str of <= 10,000 chars (kept to 200)",
    "SidebarState.load_more": "none; owner-scoped",
    "SidebarState.open_rename": "id format, title str",
    "SidebarState.close_dialogs": "none",
    "SidebarState.save_rename": "form; title length; owner-scoped",
    "SidebarState.open_delete": "id format, title str",
    "SettingsState.open_dialog": "owner-scoped",
    "SettingsState.close": "none",
    "SettingsState.save": "form; parse_settings validates every field",
    "SettingsState.load_choices": "none; the user's own defaults, validated (valid_defaults)",
    "SettingsState.choose_model": "str; known models only; owner-scoped",
    "SettingsState.toggle_thinking": "bool only; the dialog's field state",
    "SidebarState.follow_title": "id format; only this user's title job in this worker",
    "AccountState.load": "signed in",
    "AccountState.change_password": "form; current password checked",
    "SigninState.load": "query codes mapped to fixed messages",
}


def _states(cls: type[rx.State]):
    yield cls
    for sub in cls.get_substates():
        yield from _states(sub)


def test_every_handler_is_reviewed():
    found = set()
    for state in _states(rx.State):
        for name in state.event_handlers:
            if name in REFLEX_INTERNAL:
                continue
            found.add("*.setvar" if name == "setvar" else f"{state.__name__}.{name}")
    assert found - set(REVIEWED) == set(), "review these handlers and add payload tests"
    assert set(REVIEWED) - found == set(), "handlers reviewed here no longer exist"


def test_no_state_has_setters():
    for state in _states(rx.State):
        if state.__module__.startswith("ai_chat"):
            setters = [
                n for n in state.event_handlers if n.startswith("set_") and n != "set_status"
            ]
            assert setters == [], f"{state.__name__} exposes setters: {setters}"


def _toasts(tab) -> list[str]:
    return [str(e.payload) for e in tab.frontend_events() if "toast" in str(e.payload).lower()]


MALFORMED = "malformed"

BAD_PAYLOADS: list[tuple[type, str, dict[str, Any]]] = [
    (LiveState, "send", {"form_data": ["a", "b"]}),
    (LiveState, "send", {"form_data": {"message": ["not", "text"]}}),
    (LiveState, "send", {"form_data": {"message": 42}}),
    (LiveState, "send", {"form_data": "just a string"}),
    (ChatState, "export", {"fmt": "exe"}),
    (ChatState, "export", {"fmt": ["md"]}),
    (ChatState, "start_edit", {"message_id": {"id": 1}}),
    (ChatState, "start_edit", {"message_id": "../../etc"}),
    (LiveState, "save_edit", {"form_data": ["edit_text"]}),
    (LiveState, "save_edit", {"form_data": {"edit_text": ["not", "text"]}}),
    (LiveState, "switch_version", {"message_id": "../etc", "direction": 1}),
    (LiveState, "switch_version", {"message_id": "0" * 32, "direction": 5}),
    (AttachmentsState, "attach", {"attachment_id": ["0" * 32]}),
    (AttachmentsState, "attach", {"attachment_id": "../" * 20}),
    (AttachmentsState, "remove", {"attachment_id": {"id": 1}}),
    (SidebarState, "search", {"query": ["a", "b"]}),
    (SidebarState, "search", {"query": "x" * 20_000}),
    (SidebarState, "open_rename", {"conversation_id": 5, "title": "t"}),
    (SidebarState, "open_rename", {"conversation_id": "0" * 32, "title": {"t": 1}}),
    (SidebarState, "save_rename", {"form_data": ["title"]}),
    (SidebarState, "open_delete", {"conversation_id": "' OR 1=1 --", "title": "t"}),
    (SettingsState, "save", {"form": ["model"]}),
    (SettingsState, "save", {"form": {"model": {"nested": True}}}),
    (SettingsState, "choose_model", {"model": ["claude-opus-5-5"]}),
    (SettingsState, "choose_model", {"model": "x" * 5000}),
    (SettingsState, "toggle_thinking", {"on": "yes"}),
    (SidebarState, "follow_title", {"conversation_id": "../etc"}),
    (AdminState, "set_status", {"user_id": "0" * 32, "status": "superuser"}),
    (AdminState, "edit", {"user_id": None}),
    (AdminState, "create_user", {"form_data": [1, 2]}),
    (AccountState, "change_password", {"form_data": "password"}),
]


@pytest.mark.parametrize(
    ("state", "handler", "payload"),
    BAD_PAYLOADS,
    ids=[f"{s.__name__}.{h}-{i}" for i, (s, h, _) in enumerate(BAD_PAYLOADS)],
)
async def test_a_bad_payload_is_refused_and_the_tab_keeps_working(
    tab, sim, state, handler, payload
):
    await tab.open()
    before = len(tab.frontend_events())
    await tab.fire(state, handler, **payload)
    said = [str(e.payload) for e in tab.frontend_events()[before:]]
    assert any(MALFORMED in s for s in said), said
    await tab.send("still working [[sim tokens=5 ttft=0]]")
    await wait_idle(tab)
    chat = await tab.chat()
    assert [m.status for m in chat._shown_messages()] == ["complete", "complete"]


async def test_setvar_sets_nothing(tab):
    await tab.open()
    for state, var, value in (
        (LiveState, "generating", True),
        (AuthState, "is_admin", True),
        (ChatState, "conversation_id", "0" * 32),
    ):
        with pytest.raises(AttributeError, match="set_"):  # the server logs it, sets nothing
            await tab.fire(state, "setvar", var_name=var, value=value)
    live = await tab.live()
    assert not live.generating and live.conversation_id == ""
    await tab.send("still working [[sim tokens=5 ttft=0]]")
    await wait_idle(tab)


async def test_generate_runs_only_the_turn_that_was_begun_and_only_once(tab, sim):
    await tab.open()
    await tab.fire(LiveState, "generate")  # nothing begun: nothing runs
    assert not (await tab.live()).generating
    await tab.send("one reply [[sim tokens=40 tps=100 ttft=0]]")
    for _ in range(5):  # forged duplicates of the background event
        await tab.fire(LiveState, "generate")
    await wait_idle(tab)
    chat = await tab.chat()
    assert [m.role for m in chat._shown_messages()] == ["user", "assistant"]
    from tests.generation.helpers import stored_messages

    rows = await stored_messages(chat.conversation_id, owner=tab.owner)
    assert [r.role for r in rows] == ["user", "assistant"]


async def test_forged_watcher_events_do_nothing(tab, sim):
    """watch / settle_stop / check_live take no payload; forged, they find nothing set up
    (or rate-limited) and change nothing; the tab keeps working."""
    await tab.open()
    for handler in ("watch", "settle_stop", "check_live", "watch", "check_live"):
        await tab.fire(LiveState, handler)
    live = await tab.live()
    assert not live.watching and not live.generating and not live.stopping
    await tab.send("still working [[sim tokens=5 ttft=0]]")
    await wait_idle(tab)
    cid = (await tab.chat()).conversation_id
    await tab.open(cid)
    for _ in range(5):  # a flood: one watcher at most, for the conversation shown only
        await tab.fire(LiveState, "check_live")
        await tab.fire(LiveState, "watch")
    live = await tab.live()
    assert not live.watching and live._watch_cid == cid
    assert [m.status for m in (await tab.chat())._shown_messages()] == ["complete", "complete"]
