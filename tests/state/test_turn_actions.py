"""Regenerate, edit (in place), and the sidebar, through Reflex's event processor."""

from __future__ import annotations

import asyncio
import contextlib

from ai_chat.simulator.script import reply_text
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.sidebar import SidebarState
from tests.conftest import eventually
from tests.generation.helpers import stored_messages, unique_tag
from tests.state.test_send_stream import wait_idle


async def _turn(tab, text: str) -> None:
    await tab.send(text)
    await wait_idle(tab)


async def _sidebar(tab) -> SidebarState:
    from reflex.istate.manager.token import BaseStateToken
    from reflex.state import State

    async with tab.manager.modify_state(BaseStateToken(ident=tab.token, cls=State)) as root:
        return await root.get_state(SidebarState)


async def _listed(tab) -> list[tuple[str, str]]:
    """The sidebar's (id, title) pairs; titles without the simulator's directives."""
    return [(i.id, i.title.split(" [[")[0]) for i in (await _sidebar(tab)).items]


async def _streaming_reply(tab, text: str) -> str:
    """Opens a new chat and sends `text` for a long reply, until its text streams: its tag."""
    await tab.open()
    tag = unique_tag()
    await tab.send(f"{text} [[sim tokens=3000 tps=50 ttft=0 tag={tag}]]")

    async def streaming() -> bool:
        return bool(await tab.live_text())

    await eventually(streaming, what="streamed text")
    return tag


async def test_retry_after_a_failed_reply_keeps_the_failed_one_as_a_version(tab, sim):
    await tab.open()
    await _turn(tab, "first [[sim tokens=10 tps=1000 ttft=0]]")
    await _turn(tab, "second [[sim tokens=10 tps=1000 ttft=0 error=529 retry_after=99]]")
    chat = await tab.chat()
    assert chat._shown_messages()[-1].status == "failed"
    user_id, failed_id = chat._shown_messages()[-2].id, chat._shown_messages()[-1].id

    await tab.fire(LiveState, "regenerate")
    await wait_idle(tab)
    chat = await tab.chat()
    assert [m.role for m in chat._shown_messages()] == ["user", "assistant", "user", "assistant"]
    assert chat._shown_messages()[-1].status == "failed"  # same directive: fails again
    assert chat._shown_messages()[-1].id != failed_id
    assert chat.versions == {chat._shown_messages()[-1].id: [2, 2]}
    rows = await stored_messages(chat.conversation_id, owner=tab.owner)
    assert len(rows) == 5 and rows[2].id == user_id  # the question is not stored again
    assert failed_id in [r.id for r in rows]  # the first failure is kept, as version 1


async def test_edit_in_place_keeps_later_turns_on_their_branch_and_claude_sees_the_edit(tab, sim):
    await tab.open()
    await _turn(tab, "alpha [[sim tokens=10 tps=1000 ttft=0]]")
    await _turn(tab, "beta [[sim tokens=10 tps=1000 ttft=0]]")
    await _turn(tab, "gamma [[sim tokens=10 tps=1000 ttft=0]]")
    chat = await tab.chat()
    beta = chat._shown_messages()[2]
    await tab.fire(ChatState, "start_edit", message_id=beta.id)
    assert (await tab.chat()).editing_id == beta.id
    tag = unique_tag()
    form = {"edit_text": f"BETA edited [[sim tokens=12 tps=1000 ttft=0 tag={tag}]]"}
    await tab.fire(LiveState, "save_edit", form_data=form)
    await wait_idle(tab)

    chat = await tab.chat()
    assert [m.content.split(" [[")[0] for m in chat._shown_messages() if m.role == "user"] == [
        "alpha",
        "BETA edited",
    ]
    assert chat.editing_id == ""
    assert chat._shown_messages()[-1].content == reply_text("BETA edited", 12)
    (record,) = sim.recorder.find(tag)
    sent = [(m["role"], m["content"].split(" [[")[0]) for m in record.messages]
    assert sent == [
        ("user", "alpha"),
        ("assistant", reply_text("alpha", 10)),
        ("user", "BETA edited"),
    ]
    rows = await stored_messages(chat.conversation_id, owner=tab.owner)
    assert [r.content.split(" [[")[0] for r in rows if r.role == "user"] == [
        "alpha",
        "beta",
        "gamma",
        "BETA edited",
    ]


async def test_sidebar_lists_searches_renames_and_deletes(tab, sim):
    await tab.open()
    await _turn(tab, "Pasta night [[sim tokens=5 tps=1000 ttft=0]]")
    first = (await tab.chat()).conversation_id
    await tab.fire(ChatState, "new_chat")
    await tab.open()
    await _turn(tab, "Mountain trip [[sim tokens=5 tps=1000 ttft=0]]")
    second = (await tab.chat()).conversation_id

    await tab.fire(SidebarState, "refresh")
    assert [i.id for i in (await _sidebar(tab)).items] == [second, first]
    await tab.fire(SidebarState, "search", query="pasta")
    assert [i.id for i in (await _sidebar(tab)).items] == [first]
    await tab.fire(SidebarState, "search", query="")

    await tab.fire(SidebarState, "open_rename", conversation_id=second, title="x")
    await tab.fire(SidebarState, "save_rename", form_data={"title": "Alps 2027"})
    assert (await tab.chat()).title == "Alps 2027"  # the open conversation follows
    assert (await _sidebar(tab)).items[0].title == "Alps 2027"

    await tab.fire(SidebarState, "open_delete", conversation_id=second, title="Alps 2027")
    await tab.fire(LiveState, "confirm_delete")
    assert [i.id for i in (await _sidebar(tab)).items] == [first]
    # deleting the open conversation moves to a new chat

    async def moved() -> bool:
        chat = await tab.chat()
        return chat.conversation_id == "" and chat._shown_messages() == []

    await eventually(moved, what="the open conversation to be closed")


async def test_deleting_the_streaming_conversation_stops_its_reply(tab, sim):
    tag = await _streaming_reply(tab, "doomed")
    cid = (await tab.chat()).conversation_id
    await tab.fire(SidebarState, "open_delete", conversation_id=cid, title="doomed")
    await tab.fire(LiveState, "confirm_delete")
    record = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.disconnected_at is not None, timeout=5
    )
    assert record.outcome == "disconnected"
    await wait_idle(tab)
    assert not any("could not be saved" in str(e.payload) for e in tab.frontend_events())
    assert (await tab.chat())._shown_messages() == []


async def test_a_chat_deleted_in_another_tab_stops_its_reply_and_says_so(tab, sim, monkeypatch):
    from ai_chat.generation.persist import DELETED_BEFORE_SEND
    from ai_chat.state import sidebar
    from ai_chat.state.reply_ending import DELETED_DURING_REPLY
    from tests.state.harness import Tab

    # A deletion that takes a while to start (a busy database): a reply stopped before it
    # commits would be saved meanwhile, then deleted with the chat, its tab never told.
    real_scope = sidebar.session_scope

    @contextlib.asynccontextmanager
    async def slow_scope():
        await asyncio.sleep(0.3)
        async with real_scope() as session:
            yield session

    monkeypatch.setattr(sidebar, "session_scope", slow_scope)
    tag = await _streaming_reply(tab, "shared")
    cid = (await tab.chat()).conversation_id
    other = Tab(tab.processor, tab.manager, tab.namespace)
    await other.open(cid)
    await other.fire(SidebarState, "open_delete", conversation_id=cid, title="shared")
    await other.fire(LiveState, "confirm_delete")

    record = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.disconnected_at is not None, timeout=5
    )
    assert record.outcome == "disconnected"  # Claude's stream closed, not read to its end
    await wait_idle(tab)

    async def told(words: str) -> bool:
        return any(words in str(e.payload) for e in tab.frontend_events())

    await eventually(lambda: told(DELETED_DURING_REPLY), what="the tab told of the deletion")
    assert (await tab.chat())._shown_messages()[-1].status == "cancelled"  # still in view

    async def unlisted() -> bool:
        return cid not in [i.id for i in (await _sidebar(tab)).items]

    await eventually(unlisted, what="the tab's sidebar refreshed")

    # Sending there again says why it can't be, and gives the text back.
    again = unique_tag()
    await tab.send(f"one more [[sim tokens=5 tps=1000 ttft=0 tag={again}]]")
    await wait_idle(tab)

    async def said_in_reply() -> bool:  # once, in the failed reply's bubble (no toast)
        return (await tab.chat())._shown_messages()[-1].error == DELETED_BEFORE_SEND

    await eventually(said_in_reply, what="why the message was not sent")
    assert await told("one more")  # the composer's text restored
    assert sim.recorder.find(again) == []  # nothing reached Claude


async def test_continue_after_a_stop_asks_claude_to_go_on(tab, sim):
    from ai_chat.state.shared import CONTINUE_PROMPT

    await _streaming_reply(tab, "story")
    await tab.stop()
    await wait_idle(tab)
    await tab.fire(LiveState, "continue_reply")
    await wait_idle(tab)
    chat = await tab.chat()
    assert [(m.role, m.status) for m in chat._shown_messages()][:3] == [
        ("user", "complete"),
        ("assistant", "cancelled"),
        ("user", "complete"),
    ]
    assert chat._shown_messages()[2].content == CONTINUE_PROMPT
    assert chat._shown_messages()[3].role == "assistant"


async def test_a_turn_lists_its_conversation_first_without_querying_the_list(tab, sim, monkeypatch):
    """At a turn's end the sidebar shows what a refresh would (newest first, titled by the
    first message) but computed in place: a list query per tab per turn was the worker's
    busiest moment under load."""
    from ai_chat.state import sidebar as sidebar_module
    from ai_chat.store import conversations as store
    from ai_chat.store.db import session_scope

    async with session_scope() as session:  # e.g. a chat started but never written in
        untitled = (await store.create_conversation(session, tab.owner)).id
    await tab.open()
    await _turn(tab, "Pasta night [[sim tokens=5 tps=1000 ttft=0]]")
    pasta = (await tab.chat()).conversation_id
    await tab.fire(SidebarState, "refresh")
    assert await _listed(tab) == [
        (pasta, "Pasta night"),
        (untitled, "Untitled"),
    ]

    queries = 0
    real_list = sidebar_module.conversation_list.list_conversations

    async def counting(*args, **kwargs):
        nonlocal queries
        queries += 1
        return await real_list(*args, **kwargs)

    monkeypatch.setattr(sidebar_module.conversation_list, "list_conversations", counting)
    await tab.open(untitled)
    queries = 0  # opening a page refreshes the list; the turns below must not
    await _turn(tab, "Soup ideas [[sim tokens=5 tps=1000 ttft=0]]")  # names it
    assert queries == 0
    await tab.fire(ChatState, "new_chat")
    await tab.open()
    queries = 0
    await _turn(tab, "Mountain trip [[sim tokens=5 tps=1000 ttft=0]]")  # creates one
    assert queries == 0
    mountain = (await tab.chat()).conversation_id
    await tab.open(pasta)
    queries = 0
    await _turn(tab, "More pasta [[sim tokens=5 tps=1000 ttft=0]]")
    assert queries == 0
    in_place = await _listed(tab)
    assert in_place == [
        (pasta, "Pasta night"),
        (mountain, "Mountain trip"),
        (untitled, "Soup ideas"),
    ]
    await tab.fire(SidebarState, "refresh")
    assert await _listed(tab) == in_place  # the DB agrees
