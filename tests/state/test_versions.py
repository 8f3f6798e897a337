"""Versions through Reflex's event processor: Regenerate and Edit keep what they replace
(‹ n/m ›), the chosen branch is what Claude is sent and what a reload shows, Edit happens in
place, and the switch handler checks what any socket sends it."""

from __future__ import annotations

from ai_chat.simulator.script import reply_text
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.versions import EDIT_FIELD
from tests.conftest import eventually
from tests.generation.helpers import stored_messages, unique_tag
from tests.state.test_send_stream import wait_idle

FAST = "tps=2000 ttft=0"


async def _turn(tab, text: str, tokens: int = 10, tag: str = "") -> None:
    await tab.send(f"{text} [[sim tokens={tokens} {FAST}{f' tag={tag}' if tag else ''}]]")
    await wait_idle(tab)


def _plain(text: str) -> str:
    return text.split(" [[")[0]


async def _shown(tab) -> list[str]:
    return [_plain(m.content) for m in (await tab.chat())._shown_messages()]


async def _told(tab, words: str, times: int = 1) -> None:
    """Until the tab was told `words` (in a toast) `times` times."""

    async def told() -> bool:
        return str(tab.frontend_events()).count(words) >= times

    await eventually(told, what=words)


def _sent(sim, tag: str) -> list[tuple[str, str]]:
    (record,) = sim.recorder.find(tag)
    return [(m["role"], _plain(m["content"])) for m in record.messages]


async def test_regenerate_keeps_the_old_reply_and_a_switch_shows_it_after_a_reload(tab, sim):
    await tab.open()
    await _turn(tab, "alpha")
    await _turn(tab, "beta", tokens=10)
    chat = await tab.chat()
    old = chat._shown_messages()[-1]
    tag = unique_tag()
    # The directive is the question's, so the new reply is told apart by its length.
    await tab.fire(LiveState, "regenerate")
    await wait_idle(tab)
    chat = await tab.chat()
    new = chat._shown_messages()[-1]
    assert [m.role for m in chat._shown_messages()] == ["user", "assistant"] * 2
    assert new.id != old.id and chat.versions == {new.id: [2, 2]}
    rows = await stored_messages(chat.conversation_id, owner=tab.owner)
    assert old.id in [r.id for r in rows] and len(rows) == 5  # the old reply is kept

    await tab.fire(LiveState, "switch_version", message_id=new.id, direction=-1)
    chat = await tab.chat()
    assert chat._shown_messages()[-1].id == old.id and chat.versions == {old.id: [1, 2]}
    await tab.open(chat.conversation_id)  # a reload keeps the branch chosen
    chat = await tab.chat()
    assert [m.id for m in chat._shown_messages()][-1] == old.id
    assert chat.versions == {old.id: [1, 2]}
    # Claude is sent the branch shown: the first reply to beta, not the regenerated one.
    await _turn(tab, "gamma", tag=tag)
    assert _sent(sim, tag) == [
        ("user", "alpha"),
        ("assistant", reply_text("alpha", 10)),
        ("user", "beta"),
        ("assistant", old.content),
        ("user", "gamma"),
    ]


async def test_edit_in_place_adds_a_version_and_claude_sees_only_the_branch_shown(tab, sim):
    await tab.open()
    await _turn(tab, "alpha")
    await _turn(tab, "beta")
    await _turn(tab, "gamma")
    beta = (await tab.chat())._shown_messages()[2]
    await tab.fire(ChatState, "start_edit", message_id=beta.id)
    assert (await tab.chat()).editing_id == beta.id
    events_before = len(tab.frontend_events())
    tag = unique_tag()
    form = {EDIT_FIELD: f"BETA edited [[sim tokens=12 {FAST} tag={tag}]]"}
    await tab.fire(LiveState, "save_edit", form_data=form)
    await wait_idle(tab)

    chat = await tab.chat()
    assert await _shown(tab) == [
        "alpha",
        reply_text("alpha", 10),
        "BETA edited",
        reply_text("BETA edited", 12),
    ]
    edited = chat._shown_messages()[2]
    assert chat.editing_id == "" and chat.versions == {edited.id: [2, 2]}
    assert _sent(sim, tag) == [
        ("user", "alpha"),
        ("assistant", reply_text("alpha", 10)),
        ("user", "BETA edited"),
    ]
    # The composer is left alone: an edit is not typed there.
    assert not any("message" in str(e) for e in tab.frontend_events()[events_before:])

    await tab.fire(LiveState, "switch_version", message_id=edited.id, direction=-1)
    assert await _shown(tab) == [
        "alpha",
        reply_text("alpha", 10),
        "beta",
        reply_text("beta", 10),
        "gamma",
        reply_text("gamma", 10),
    ]
    assert (await tab.chat()).versions == {beta.id: [1, 2]}
    tag = unique_tag()
    await _turn(tab, "delta", tag=tag)
    assert [content for _, content in _sent(sim, tag)] == [*(await _shown(tab))[:6], "delta"]


async def test_an_edit_that_is_empty_or_too_long_keeps_the_box_and_changes_nothing(
    tab, sim, app_env
):
    app_env(max_message_chars="50")
    await tab.open()
    await _turn(tab, "alpha")
    alpha = (await tab.chat())._shown_messages()[0]
    await tab.fire(ChatState, "start_edit", message_id=alpha.id)
    for text in ("   ", "x" * 51):
        await tab.fire(LiveState, "save_edit", form_data={EDIT_FIELD: text})
        chat = await tab.chat()
        assert chat.editing_id == alpha.id and not (await tab.live()).generating
    assert "empty" in str(tab.frontend_events()) and "the limit is 50" in str(tab.frontend_events())
    await tab.fire(ChatState, "cancel_edit")
    assert (await tab.chat()).editing_id == ""
    rows = await stored_messages((await tab.chat()).conversation_id, owner=tab.owner)
    assert len(rows) == 2


async def test_the_switch_checks_its_payload_and_waits_for_a_streaming_reply(tab, sim):
    await tab.open()
    await _turn(tab, "alpha")
    await tab.fire(LiveState, "regenerate")
    await wait_idle(tab)
    reply = (await tab.chat())._shown_messages()[-1]
    for message_id, direction in [
        ("not-an-id", -1),
        (reply.id, 2),
        (reply.id, True),
        (reply.id, 0),
        (reply.id, 1.0),
        (None, None),
    ]:
        await tab.fire(LiveState, "switch_version", message_id=message_id, direction=direction)
    await _told(tab, "malformed", 6)
    await tab.fire(LiveState, "switch_version", message_id="f" * 32, direction=-1)
    await _told(tab, "no longer shown")
    await tab.fire(LiveState, "switch_version", message_id=reply.id, direction=1)
    await _told(tab, "no other version")
    assert (await tab.chat())._shown_messages()[-1].id == reply.id

    await tab.send("long [[sim tokens=3000 tps=50 ttft=0]]")

    async def streaming() -> bool:
        return bool(await tab.live_text())

    await eventually(streaming, what="streamed text")
    await tab.fire(LiveState, "switch_version", message_id=reply.id, direction=-1)
    await _told(tab, "switch versions once it ends")
    await tab.stop()
    await wait_idle(tab)
    assert (await tab.chat())._shown_messages()[1].id == reply.id  # nothing switched


async def test_a_tab_sending_after_another_chose_a_version_shows_the_branch_claude_saw(tab, sim):
    from tests.state.harness import Tab

    await tab.open()
    await _turn(tab, "alpha")
    alpha = (await tab.chat())._shown_messages()[0]
    await tab.fire(ChatState, "start_edit", message_id=alpha.id)
    form = {EDIT_FIELD: f"alpha two [[sim tokens=10 {FAST}]]"}
    await tab.fire(LiveState, "save_edit", form_data=form)
    await wait_idle(tab)
    cid = (await tab.chat()).conversation_id
    edited = (await tab.chat())._shown_messages()[0]
    other = Tab(tab.processor, tab.manager, tab.namespace)
    await other.open(cid)
    await other.fire(LiveState, "switch_version", message_id=edited.id, direction=-1)
    assert await _shown(other) == ["alpha", reply_text("alpha", 10)]
    # This tab still shows "alpha two": what it sends goes on the branch stored, and the
    # tab shows that branch once the turn is stored.
    tag = unique_tag()
    await _turn(tab, "beta", tag=tag)
    assert await _shown(tab) == ["alpha", reply_text("alpha", 10), "beta", reply_text("beta", 10)]
    assert [content for _, content in _sent(sim, tag)] == (await _shown(tab))[:3]
    assert (await tab.chat()).versions == {alpha.id: [1, 2]}
