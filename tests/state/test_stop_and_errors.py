"""Stop, errors and send-after-stop through Reflex's event processor (real background task)."""

from __future__ import annotations

import time

from ai_chat.state.chat import ChatState
from tests.conftest import eventually
from tests.generation.helpers import unique_tag
from tests.state.test_send_stream import wait_idle


async def test_stop_event_closes_upstream_and_keeps_partial_reply(tab, sim):
    await tab.open()
    tag = unique_tag()
    await tab.send(f"long [[sim tokens=3000 tps=100 ttft=0 tag={tag}]]")
    seen = {"text": ""}

    async def streamed() -> bool:
        seen["text"] = await tab.live_text()
        return len(seen["text"]) > 30

    await eventually(streamed, what="streamed text")

    stop_at = time.time()
    await tab.stop()
    record = await sim.recorder.wait_for_async(
        lambda r: r.tag == tag and r.disconnected_at is not None, timeout=5
    )
    # Closed at the stop, not read to its end (3,000 tokens at 100 a second). How soon
    # after the stop is measured by benchmarks/core_latency.py, not asserted here.
    assert stop_at <= record.disconnected_at and record.tokens_sent < 3000
    await wait_idle(tab)
    chat = await tab.chat()
    final = chat._shown_messages()[-1]
    assert final.status == "cancelled"
    assert final.content.startswith(seen["text"]) and len(final.content) >= len(seen["text"])
    assert final.output_estimated

    # stop again, after the end: nothing happens, nothing breaks
    await tab.stop()
    assert (await tab.chat())._shown_messages()[-1].status == "cancelled"


async def test_send_right_after_stop_is_queued_and_sent(tab, sim):
    await tab.open()
    await tab.send("first [[sim tokens=3000 tps=100 ttft=0]]")
    await eventually(tab.live_text, what="streamed text")
    await tab.stop()
    await tab.send("second [[sim tokens=10 tps=1000 ttft=0]]")

    async def two_turns_done() -> bool:
        chat = await tab.chat()
        return len(chat._shown_messages()) == 4 and not (await tab.live()).generating

    await eventually(two_turns_done, timeout=15, what="the queued turn to finish")
    chat = await tab.chat()
    assert [(m.role, m.status) for m in chat._shown_messages()] == [
        ("user", "complete"),
        ("assistant", "cancelled"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert chat._shown_messages()[2].content.startswith("second")


async def test_failed_reply_shows_error_and_next_send_works(tab, sim):
    await tab.open()
    await tab.send("boom [[sim error=529 retry_after=9]]")
    await wait_idle(tab)
    chat = await tab.chat()
    assert chat._shown_messages()[-1].status == "failed"
    assert "overloaded" in chat._shown_messages()[-1].error
    # Said once, in the reply's bubble: no toast repeats it.
    assert not any("overloaded" in str(e.payload) for e in tab.frontend_events())

    await tab.send("fine [[sim tokens=5 tps=1000 ttft=0]]")
    await wait_idle(tab)
    chat = await tab.chat()
    assert [m.status for m in chat._shown_messages()] == [
        "complete",
        "failed",
        "complete",
        "complete",
    ]


async def test_generation_of_a_dead_process_is_cleared_on_load(tab):
    """After a restart a tab's saved state may say 'generating' with no task behind it
    (no process runs it, no lease was renewed)."""
    from reflex.istate.manager.token import BaseStateToken
    from reflex.state import State

    from ai_chat.auth.identity import Identity
    from ai_chat.state.live import LiveState

    await tab.open()
    async with tab.manager.modify_state(BaseStateToken(ident=tab.token, cls=State)) as root:
        live = await root.get_state(LiveState)
        live._begin(Identity(user_id=tab.owner, username="alice"), "", "lost", "m1")
        live._claimed = True  # its `generate` had taken it, on a worker now gone
    await tab.open()
    assert not (await tab.live()).generating
    assert any("Interrupted" in str(e.payload) for e in tab.frontend_events())


async def test_database_down_gives_the_text_back(tab, app_env, tmp_path):
    await tab.open()  # signed in while the database was up: the check is remembered
    app_env(db_url=f"sqlite:///{tmp_path}/missing-dir/none.db", keep_sign_ins="1")
    await tab.open()

    def list_failures() -> int:
        return sum(
            "Could not load your conversations" in str(e.payload) for e in tab.frontend_events()
        )

    before = list_failures()
    await tab.send("keep my words [[sim tokens=5]]")
    await wait_idle(tab)

    # The turn's end refreshes the sidebar, which fails too; let it finish before the loop
    # closes (else its DB connection attempt ends on a closed loop).
    async def refreshed() -> bool:
        return list_failures() > before

    await eventually(refreshed, what="the sidebar refresh")
    chat = await tab.chat()
    assert chat._shown_messages()[-1].status == "failed"
    assert "could not be saved" in chat._shown_messages()[-1].error
    restored = [e for e in tab.frontend_events() if "keep my words" in str(e.payload)]
    assert restored, "the unsent text goes back into the message box"


async def test_sending_elsewhere_while_a_reply_streams_is_explained(tab, sim):
    await tab.open()
    await tab.send("long one [[sim tokens=3000 tps=50 ttft=0]]")
    await eventually(tab.live_text, what="streamed text")
    await tab.fire(ChatState, "new_chat")
    await tab.send("another topic")
    assert any("still streaming" in str(e.payload) for e in tab.frontend_events())
    assert (await tab.chat())._shown_messages() == []
    await tab.stop()
    await wait_idle(tab)
