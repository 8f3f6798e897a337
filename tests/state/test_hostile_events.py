"""Hostile input to the other handlers, through the real event path on SQLite and PostgreSQL:
search, rename, settings, and payloads of the wrong type (any socket can send any payload).

Each case: nothing raises, what is stored is what was sent after cleaning (or it was refused
with a toast and nothing changed), and the tab stays usable (hostile.assert_usable).
Messages and replies: test_hostile_inputs.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.settings import SettingsState
from ai_chat.state.sidebar import SidebarState
from tests.conftest import eventually
from tests.generation.helpers import unique_tag
from tests.state.hostile import (
    assert_usable,
    fire,
    hostile_tab,
    listed,
    new_conversation,
    settle,
    substate,
    toasts,
)

PROMPT_LIMIT = 20_000  # AI_CHAT_MAX_SYSTEM_PROMPT_CHARS's default


@pytest.fixture
async def tab(app_env, db_url):
    async with hostile_tab(app_env, db_url) as tab:
        yield tab


# (id, query, which conversations it finds: "special", "plain"), newest first.
SEARCHES: list[tuple[str, str, list[str]]] = [
    ("percent", "%", ["special"]),
    ("underscore", "r_s", ["special"]),  # a wildcard "_" would match "rds" in "words" too
    ("backslash", "\\", ["special"]),
    ("lone-surrogate", "\ud800", []),
    ("nul", "find\x00me", ["plain", "special"]),  # NUL is dropped, as when stored
    ("sql", "' OR 1=1 --", []),
    ("rtl-override", "\u202e", []),
    ("whitespace", " \t ", ["plain", "special"]),
]


@pytest.mark.parametrize(
    ("query", "finds"), [c[1:] for c in SEARCHES], ids=[c[0] for c in SEARCHES]
)
async def test_a_hostile_search_finds_what_it_says(tab, query, finds):
    ids = {"special": await new_conversation(tab, "findme 100% under_score back\\slash")}
    ids["plain"] = await new_conversation(tab, "findme plain words")
    assert await fire(tab, SidebarState, "search", query=query) is None
    want = [ids[name] for name in finds]

    async def found() -> bool:
        return await listed(tab) == want

    await eventually(found, 10, f"the search to list {finds}")
    await assert_usable(tab)


# Payloads no browser sends; each must be refused with a message, changing nothing.
WRONG: list[tuple[str, type, str, dict[str, Any]]] = [
    ("search-list", SidebarState, "search", {"query": ["a", "b"]}),
    ("search-dict", SidebarState, "search", {"query": {"q": 1}}),
    ("search-number", SidebarState, "search", {"query": 5}),
    ("search-none", SidebarState, "search", {"query": None}),
    ("search-missing", SidebarState, "search", {}),
    ("search-too-long", SidebarState, "search", {"query": "x" * 1_000_000}),
    ("send-list", LiveState, "send", {"form_data": ["a", "b"]}),
    ("send-number", LiveState, "send", {"form_data": {"message": 5}}),
    ("send-dict", LiveState, "send", {"form_data": {"message": {"x": 1}}}),
    ("send-missing", LiveState, "send", {}),
    ("rename-list", SidebarState, "save_rename", {"form_data": ["title"]}),
    ("rename-number", SidebarState, "save_rename", {"form_data": {"title": 7}}),
    ("open-rename-dict", SidebarState, "open_rename", {"conversation_id": {"x": 1}, "title": "t"}),
    ("open-rename-path", SidebarState, "open_rename", {"conversation_id": "../x", "title": "t"}),
    ("open-delete-list", SidebarState, "open_delete", {"conversation_id": [1], "title": "t"}),
    ("settings-list", SettingsState, "save", {"form": ["x"]}),
    ("settings-number", SettingsState, "save", {"form": {"system_prompt": 5}}),
    ("export-list", ChatState, "export", {"fmt": ["md"]}),
    ("edit-number", ChatState, "start_edit", {"message_id": 5}),
    ("edit-surrogate", ChatState, "start_edit", {"message_id": "\ud800"}),
]


@pytest.mark.parametrize(
    ("state", "handler", "payload"), [c[1:] for c in WRONG], ids=[c[0] for c in WRONG]
)
async def test_a_payload_of_the_wrong_type_is_refused_and_changes_nothing(
    tab, state, handler, payload
):
    cid = await new_conversation(tab, "a conversation to keep")
    since = len(tab.pushes())
    assert await fire(tab, state, handler, **payload) is None
    assert toasts(tab, since), "the tab is told the request was refused"
    sidebar = await substate(tab, SidebarState)
    assert (sidebar.query, sidebar.rename_id, sidebar.delete_id) == ("", "", "")
    chat = await tab.chat()
    assert (chat.conversation_id, chat.editing_id) == (cid, "")
    assert [m.role for m in [*chat.messages, *chat.new_messages]] == ["user", "assistant"]
    await assert_usable(tab)


# (id, title typed, the title stored; None: refused with a toast, the old title kept).
RENAMES: list[tuple[str, str, str | None]] = [
    ("lone-surrogate", "\ud800 title", "\ufffd title"),
    ("nul", "a\x00b", "ab"),
    ("rtl-override", "\u202eevil\u202c.exe", "\u202eevil\u202c.exe"),
    ("markup", "<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("control-characters", "tab\there\nnew\x0bline", "tab here new line"),
    ("blank", " \t\n ", None),
    ("missing", "", None),
]


@pytest.mark.parametrize(("title", "kept"), [c[1:] for c in RENAMES], ids=[c[0] for c in RENAMES])
async def test_a_hostile_title_is_stored_cleaned_or_refused(tab, title, kept):
    cid = await new_conversation(tab, "original title")
    original = (await tab.chat()).title
    assert await fire(tab, SidebarState, "open_rename", conversation_id=cid, title="x") is None
    since = len(tab.pushes())
    form = {"title": title} if title else {}
    assert await fire(tab, SidebarState, "save_rename", form_data=form) is None
    await tab.open(cid)  # the title as stored
    assert (await tab.chat()).title == (original if kept is None else kept)
    if kept is None:
        assert any("title can" in t and "be empty" in t for t in toasts(tab, since))
    await assert_usable(tab)


# (id, system prompt typed, the prompt stored; None: refused with a toast, nothing saved).
PROMPTS: list[tuple[str, str, str | None]] = [
    ("lone-surrogate", "\ud800 be brief", "\ufffd be brief"),
    ("nul", "be\x00 brief", "be brief"),
    ("exactly-the-limit", "p" * PROMPT_LIMIT, "p" * PROMPT_LIMIT),
    ("trailing-space-over-the-limit", "p" * PROMPT_LIMIT + "   ", "p" * PROMPT_LIMIT),
    ("one-over-the-limit", "p" * (PROMPT_LIMIT + 1), None),
    ("100-kb", "p" * 100_000, None),
]


@pytest.mark.parametrize(("prompt", "kept"), [c[1:] for c in PROMPTS], ids=[c[0] for c in PROMPTS])
@pytest.mark.parametrize("when", ["existing", "before-the-first-message"])
async def test_a_hostile_system_prompt_is_stored_cleaned_or_refused(tab, sim, prompt, kept, when):
    if when == "existing":
        await new_conversation(tab)
    else:
        await tab.open()
    since = len(tab.pushes())
    assert await fire(tab, SettingsState, "save", form={"system_prompt": prompt}) is None
    if kept is None:
        assert any("the limit is 20,000" in t for t in toasts(tab, since)), "said why"
    tag = unique_tag()
    await tab.send(f"next [[sim tokens=4 tps=100000 ttft=0 tag={tag}]]")
    await settle(tab)
    (record,) = sim.recorder.find(tag)
    assert (record.system or "") == (kept or "")  # what Claude is sent, byte for byte
    await tab.fire(SettingsState, "open_dialog")
    assert (await substate(tab, SettingsState)).system_prompt == (kept or "")
    await assert_usable(tab)
