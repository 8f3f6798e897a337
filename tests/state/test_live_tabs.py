"""Live in every tab, nobody stuck: watchers, Stop from another tab, owners that are gone.

Through Reflex's real event processor (memory and Redis state managers), the real runner
and the simulator over HTTP; a reply whose worker died is made as a crash leaves it: its
row in flight in the database with a lease that has passed (or never passes)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from ai_chat.state.watch_view import LOST, UNCONFIRMED_STOP
from ai_chat.store.db import run_write
from ai_chat.store.models import Conversation, Message, MessageStatus, utcnow
from tests.conftest import eventually
from tests.state.harness import Tab
from tests.state.test_send_stream import wait_idle

LONG = "[[sim tokens=300 tps=100 ttft=0]]"


def second_tab(tab: Tab) -> Tab:
    """Another tab of the same user (own client token, same session cookie)."""
    return Tab(tab.processor, tab.manager, tab.namespace)


async def streaming(tab: Tab, chars: int = 20) -> str:
    async def enough() -> bool:
        return len(await tab.live_text()) >= chars

    await eventually(enough, what=f"{chars} characters streamed")
    return await tab.live_text()


async def not_watching(tab: Tab) -> None:
    async def done() -> bool:
        return not (await tab.live()).watching

    await eventually(done, 15, "the watched reply to end in that tab")


def said(tab: Tab, text: str) -> bool:
    return any(text in str(event.payload) for event in tab.frontend_events())


async def test_a_second_tab_shows_the_reply_growing_and_its_end(tab, sim):
    await tab.open()
    await tab.send(f"tell me {LONG}")
    await streaming(tab)
    cid = (await tab.chat()).conversation_id
    other = second_tab(tab)
    await other.open(cid)
    live = await other.live()
    assert live.watching and live.shows_live and not live.generating
    shown = await other.live_text()
    await streaming(other, len(shown) + 40)  # it grows in the second tab too

    await wait_idle(tab)
    await not_watching(other)
    mine, theirs = (await tab.chat())._shown_messages(), (await other.chat())._shown_messages()
    assert [(m.role, m.status) for m in theirs] == [("user", "complete"), ("assistant", "complete")]
    assert [m.content for m in theirs] == [m.content for m in mine]
    assert not (await other.live()).shows_live  # Send is back


async def test_a_tab_open_before_the_reply_sees_it_live_and_its_end(tab, sim):
    await tab.open()
    await tab.send("first [[sim tokens=5 ttft=0]]")
    await wait_idle(tab)
    cid = (await tab.chat()).conversation_id
    other = second_tab(tab)
    await other.open(cid)  # idle: it watches the conversation
    await tab.send(f"second {LONG}")

    async def watching() -> bool:
        return (await other.live()).watching

    await eventually(watching, what="the second tab to see the new reply")
    chat = await other.chat()
    assert [m.role for m in chat._shown_messages()] == ["user", "assistant", "user"]
    await streaming(other, 20)
    await wait_idle(tab)
    await not_watching(other)
    theirs = (await other.chat())._shown_messages()
    assert [m.content for m in theirs] == [m.content for m in (await tab.chat())._shown_messages()]


async def test_stop_from_the_second_tab_stops_the_reply_everywhere(tab, sim):
    await tab.open()
    await tab.send("long [[sim tokens=3000 tps=100 ttft=0]]")
    await streaming(tab)
    other = second_tab(tab)
    await other.open((await tab.chat()).conversation_id)
    await other.stop()
    await wait_idle(tab)
    assert (await tab.chat())._shown_messages()[-1].status == "cancelled"
    await not_watching(other)
    assert (await other.chat())._shown_messages()[-1].status == "cancelled"


async def test_the_second_tab_cannot_send_while_the_reply_streams(tab, sim):
    await tab.open()
    await tab.send(f"long {LONG}")
    await streaming(tab)
    other = second_tab(tab)
    await other.open((await tab.chat()).conversation_id)
    await other.send("me too")
    assert said(other, "still streaming in this conversation")
    assert not said(other, "me too")  # nothing cleared the box or sent the text
    await wait_idle(tab)


async def _lost_reply(owner: str, lease_s: float, text: str = "half an answ") -> tuple[str, str]:
    """A conversation whose reply's worker died mid-reply: its row in flight, leased."""

    def write(session) -> tuple[str, str]:
        conversation = Conversation(owner=owner, title="lost")
        session.add(conversation)
        session.flush()
        user = Message(conversation_id=conversation.id, seq=0, role="user", content="q?")
        reply = Message(
            conversation_id=conversation.id,
            seq=1,
            role="assistant",
            content=text,
            status=MessageStatus.STREAMING.value,
            lease_until=utcnow() + timedelta(seconds=lease_s),
        )
        session.add_all([user, reply])
        return conversation.id, reply.id

    return await run_write(write)


async def test_opening_a_conversation_whose_reply_lost_its_owner_shows_it_interrupted(tab):
    cid, reply_id = await _lost_reply(tab.owner, lease_s=-30)
    await tab.open(cid)
    messages = (await tab.chat())._shown_messages()
    assert [(m.id, m.status, m.content) for m in messages][1:] == [
        (reply_id, "interrupted", "half an answ")
    ]
    assert not (await tab.live()).shows_live
    assert said(tab, LOST)


async def test_a_tab_watching_a_reply_whose_owner_dies_ends_it_within_seconds(tab):
    cid, reply_id = await _lost_reply(tab.owner, lease_s=1.0)
    await tab.open(cid)
    live = await tab.live()
    assert live.watching and live.live_text_head + live.live_text_tail == "half an answ"
    await not_watching(tab)  # no frame, then the lease passes: recovered, shown interrupted
    last = (await tab.chat())._shown_messages()[-1]
    assert (last.id, last.status, last.content) == (reply_id, "interrupted", "half an answ")
    assert said(tab, LOST)


async def test_stop_ends_within_seconds_even_if_the_owner_never_answers(tab):
    cid, reply_id = await _lost_reply(tab.owner, lease_s=600)  # "alive", but nobody there
    await tab.open(cid)
    assert (await tab.live()).watching
    await tab.stop()
    await not_watching(tab)
    last = (await tab.chat())._shown_messages()[-1]
    assert (last.id, last.status, last.error) == (reply_id, "cancelled", UNCONFIRMED_STOP)
    assert said(tab, UNCONFIRMED_STOP)


async def test_a_question_left_unanswered_is_marked_and_not_sent_with_the_next(tab, sim):
    cid, _ = await _lost_reply(tab.owner, lease_s=-30, text="")  # died before any text
    await tab.open(cid)
    user, reply = (await tab.chat())._shown_messages()
    assert user.unanswered and reply.status == "interrupted"
    await tab.send("[[sim echo=1 ttft=0]] the next question")
    await wait_idle(tab)
    echoed = (await tab.chat())._shown_messages()[-1].content
    assert "q?" not in echoed and "the next question" in echoed


async def test_a_reply_the_database_refused_says_not_saved_yet_until_it_is(
    tab, sim, app_env, postgres_url
):
    from ai_chat.state.reply_ending import NOT_SAVED_YET
    from ai_chat.store import migrations
    from tests.conftest import sync_url
    from tests.generation.test_shutdown import _connections

    migrations.upgrade(sync_url(postgres_url))
    await tab.open()  # signed in (the check is remembered), then the app moves to PostgreSQL
    app_env(db_url=postgres_url, keep_sign_ins="1")
    database = postgres_url.rsplit("/", 1)[-1]
    await tab.send("save me [[sim tokens=40 tps=40 ttft=0]]")
    await streaming(tab, 5)
    await asyncio.to_thread(_connections, database, False)
    try:
        await wait_idle(tab, 30)
        last = (await tab.chat())._shown_messages()[-1]
        assert (last.status, last.save_pending) == ("complete", True)
        assert said(tab, NOT_SAVED_YET)
    finally:
        await asyncio.to_thread(_connections, database, True)

    async def saved() -> bool:
        return not (await tab.chat())._shown_messages()[-1].save_pending

    await eventually(saved, 30, "the reply to be saved")
    assert (await tab.chat())._shown_messages()[-1].error == ""
