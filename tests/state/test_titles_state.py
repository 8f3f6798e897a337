"""A new conversation's title in the tab: the cleaned first message at once, Claude's (the
simulator's) once the first reply has ended, in the list and the open chat."""

from __future__ import annotations

from reflex.istate.manager.token import BaseStateToken
from reflex.state import State

from ai_chat.simulator.titles import expected_title
from ai_chat.state.chat import ChatState
from ai_chat.state.sidebar import SidebarState
from tests.conftest import eventually
from tests.state.harness import Tab
from tests.state.test_send_stream import wait_idle

MESSAGE = "**please** plan a weekend trip to the Alps"


async def _sidebar(tab: Tab) -> SidebarState:
    async with tab.manager.modify_state(BaseStateToken(ident=tab.token, cls=State)) as root:
        return await root.get_state(SidebarState)


async def test_the_title_replaces_the_first_message_in_list_and_chat(tab, sim):
    await tab.open()
    await tab.send(f"{MESSAGE} [[sim tokens=5 tps=1000 ttft=0]]")
    await wait_idle(tab)
    chat = await tab.chat()
    cid = chat.conversation_id
    assert chat.title == "please plan a weekend trip to the Alps"  # no Markdown, no directive
    # The turn's end started the title job and the tab's SidebarState.follow_title.
    generated = expected_title("please plan a weekend trip to the Alps")
    assert generated == "please plan a weekend trip"

    async def titled() -> bool:
        items = (await _sidebar(tab)).items
        return (await tab.chat()).title == generated and items[0].title == generated

    await eventually(titled, 10, "the generated title in the chat and the list")
    # Stored: a reload shows it.
    other = Tab(tab.processor, tab.manager, tab.namespace)
    await other.open(cid)
    assert (await other.chat()).title == generated


async def test_a_later_turn_or_a_failed_first_reply_makes_no_title(tab, sim, monkeypatch):
    from ai_chat.state import reply_ending

    started: list[str] = []
    real_start = reply_ending.titles.start

    def counting(*args, **kwargs):
        started.append(args[2])
        return real_start(*args, **kwargs)

    monkeypatch.setattr(reply_ending.titles, "start", counting)
    await tab.open()
    await tab.send("broken start [[sim error=500]]")
    await wait_idle(tab)  # the job starts (or not) before the tab is idle
    await tab.send("one two three four five six seven [[sim tokens=5 tps=1000 ttft=0]]")
    await wait_idle(tab)
    assert started == []  # only after the first reply, and only when it is complete
    await tab.fire(ChatState, "new_chat")
    await tab.open()
    await tab.send("a good start [[sim tokens=5 tps=1000 ttft=0]]")
    await wait_idle(tab)
    assert started == [(await tab.chat()).conversation_id]
