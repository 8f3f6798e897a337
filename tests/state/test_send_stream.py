"""Send → background generation → pushes → stored turn, through Reflex's event processor."""

from __future__ import annotations

import pytest

from ai_chat.simulator.script import reply_text
from tests.conftest import eventually
from tests.generation.helpers import unique_tag


async def wait_idle(tab, timeout: float = 15) -> None:
    """Until the tab's generation has ended."""

    async def idle() -> bool:
        return not (await tab.live()).generating

    await eventually(idle, timeout, "the generation to end")


async def test_send_streams_and_appends_the_final_turn(tab, sim):
    await tab.open()
    tag = unique_tag()
    await tab.send(f"Hello [[sim tokens=150 tps=300 ttft=0 tag={tag}]]")
    live = await tab.live()
    assert live.generating and live.live_status in ("thinking", "streaming")
    await wait_idle(tab)

    chat = await tab.chat()
    assert [m.role for m in chat._shown_messages()] == ["user", "assistant"]
    assert chat._shown_messages()[1].content == reply_text("Hello", 150)
    assert chat._shown_messages()[1].status == "complete"
    assert chat.conversation_id  # created with the first turn
    # the new conversation got its URL by a replace navigation (one route: no remount)
    moves = [e.payload for e in tab.frontend_events() if e.name == "_redirect"]
    assert [(m["path"], m["replace"]) for m in moves] == [(f"/c/{chat.conversation_id}", True)]
    # the user turn keeps the id it was shown with (stable keys across reloads)
    from tests.generation.helpers import stored_messages

    rows = await stored_messages(chat.conversation_id, owner=tab.owner)
    assert [r.id for r in rows] == [m.id for m in chat._shown_messages()]


async def test_live_pushes_never_carry_the_history(tab, sim):
    """With a long history, streaming pushes stay small: only the live substate changes."""
    await tab.open()
    for i in range(3):
        await tab.send(f"warm-up {i} [[sim tokens=400 tps=2000 ttft=0]]")
        await wait_idle(tab)
    before = len(tab.pushes())
    await tab.send("measure [[sim tokens=300 tps=300 ttft=0]]")
    await wait_idle(tab)
    pushes = tab.pushes()[before:]
    streaming = [p for p in pushes if _live_text_in(p)]
    assert len(streaming) >= 3
    for push in streaming:
        assert not _has_history(push), push.delta.keys()
    # the history list is pushed at the send and at the end only
    assert len([p for p in pushes if _has_history(p)]) == 2


async def test_double_send_creates_one_turn(tab, sim):
    await tab.open()
    await tab.send("once [[sim tokens=50 tps=500 ttft=0.2]]")
    await tab.send("once [[sim tokens=50 tps=500 ttft=0.2]]")
    await wait_idle(tab)
    chat = await tab.chat()
    assert [m.role for m in chat._shown_messages()] == ["user", "assistant"]


async def test_blank_and_too_long_messages_are_refused_without_losing_text(tab, app_env):
    app_env(max_message_chars="20")
    await tab.open()
    await tab.send("   \n  ")
    await tab.send("x" * 21)
    chat = await tab.chat()
    assert chat._shown_messages() == []
    assert not (await tab.live()).generating
    toasts = [e for e in tab.frontend_events() if "limit is 20" in str(e.payload)]
    assert toasts, "the user is told why"
    # the composer is cleared only on success: no set_value for the refused text
    assert not [e for e in tab.frontend_events() if "_set_value" in e.name or "setValue" in e.name]


async def test_reload_restores_the_conversation_from_the_db(tab, sim):
    await tab.open()
    await tab.send("remember me [[sim tokens=40 tps=1000 ttft=0]]")
    await wait_idle(tab)
    cid = (await tab.chat()).conversation_id
    expected = [(m.role, m.content, m.status) for m in (await tab.chat())._shown_messages()]

    # a different tab (fresh token: empty state) opening the URL loads it from the DB
    from tests.state.harness import Tab

    other = Tab(tab.processor, tab.manager, tab.namespace)
    await other.open(cid)
    chat = await other.chat()
    assert [(m.role, m.content, m.status) for m in chat._shown_messages()] == expected
    assert chat.title.startswith("remember me")


async def test_unknown_conversation_redirects_home(tab):
    await tab.open("0" * 32)
    chat = await tab.chat()
    assert chat.conversation_id == "" and chat._shown_messages() == []
    assert any("redirect" in e.name or "_redirect" in e.name for e in tab.frontend_events())


def _has_history(push) -> bool:
    return _pushes_var(push, "messages") or _pushes_var(push, "new_messages")


def _pushes_var(push, name: str) -> bool:
    """Whether the push carries ChatState's var `name` (delta keys carry a suffix)."""
    return any(any(k.startswith(name + "_rx_state_") for k in sub) for sub in push.delta.values())


def _live_text_in(push) -> bool:
    """A streaming push: it carries non-empty live text."""
    return any(
        any(k.startswith("live_text") and v for k, v in sub.items()) for sub in push.delta.values()
    )


async def test_reload_racing_the_end_of_a_turn_shows_each_message_once(tab, sim, monkeypatch):
    """on_load (after the redirect to /c/<id>) can read the reply from the DB just before
    the background task appends it: the reply must not appear twice."""
    from ai_chat.generation.persist import TurnStore

    original = TurnStore.reply

    async def store_then_reload(self, job, reply, seq):
        finished = await original(self, job, reply, seq)
        await tab.open(reply.conversation_id)  # the page navigates right now
        return finished

    monkeypatch.setattr(TurnStore, "reply", store_then_reload)
    await tab.open()
    await tab.send("race [[sim tokens=20 tps=1000 ttft=0]]")
    await wait_idle(tab)
    chat = await tab.chat()
    assert [m.role for m in chat._shown_messages()] == ["user", "assistant"]


async def test_pushes_resend_only_the_text_since_the_last_fold(tab, sim):
    """A browser that applies each push's delta to what it has shows exactly the reply so
    far, while no push carries more than a fold's worth of text, except the folds."""
    from ai_chat.state.live_vars import FOLD_CHARS

    await tab.open()
    before = len(tab.pushes())
    # ~3 s of streaming: dozens of push intervals, so even a loaded CI machine pushes the
    # reply in several parts (at 3,000 tok/s it took 0.5 s and came in 3 pushes, 1 run in 10)
    await tab.send("long [[sim tokens=1500 tps=500 ttft=0]]")
    await wait_idle(tab)
    expected = reply_text("long", 1500)
    shown = {"live_text_head": "", "live_text_tail": ""}
    texts, folds = [], 0
    for push in tab.pushes()[before:]:
        for sub in push.delta.values():
            for key, value in sub.items():
                name = key.removesuffix("_rx_state_")
                if name in shown:
                    shown[name] = value
                    folds += name == "live_text_head" and bool(value)
                    assert name == "live_text_head" or len(value) <= FOLD_CHARS
        texts.append(shown["live_text_head"] + shown["live_text_tail"])
    streamed = [t for t in texts if t]
    assert len(streamed) >= 5
    assert all(expected.startswith(t) for t in streamed)  # always a prefix of the reply
    # How close the last live push comes to the end depends on timing; the stored turn doesn't.
    assert (await tab.chat())._shown_messages()[-1].content == expected
    assert 1 <= folds <= len(expected) // FOLD_CHARS + 1
    assert texts[-1] == ""  # the ended turn clears both; the history holds the reply


def test_live_text_keeps_its_head_while_the_tail_is_short():
    from ai_chat.state.live_vars import FOLD_CHARS, split_live_text

    assert split_live_text("", "Hello") == ("", "Hello")
    assert split_live_text("", "x" * FOLD_CHARS) == ("", "x" * FOLD_CHARS)
    assert split_live_text("", "x" * (FOLD_CHARS + 1)) == ("x" * (FOLD_CHARS + 1), "")
    head = "a" * 5000
    assert split_live_text(head, head + "bc") == (head, "bc")
    assert split_live_text(head, "another reply") == ("another reply", "")  # not an extension


async def test_a_turn_in_a_loaded_conversation_resends_only_the_new_turns(tab, sim):
    """The history as loaded is pushed once, when the page opens; each turn after that
    pushes the turns this tab added, not the whole conversation again."""
    from ai_chat.state.chat import ChatState
    from ai_chat.state.live import LiveState
    from tests.state.harness import Tab

    await tab.open()
    for i in range(2):
        await tab.send(f"old {i} [[sim tokens=30 tps=2000 ttft=0]]")
        await wait_idle(tab)
    cid = (await tab.chat()).conversation_id

    other = Tab(tab.processor, tab.manager, tab.namespace)
    await other.open(cid)
    assert any(_pushes_var(p, "messages") for p in other.pushes())  # the page's load
    before = len(other.pushes())
    await other.send("new [[sim tokens=30 tps=2000 ttft=0]]")
    await wait_idle(other)
    pushes = other.pushes()[before:]
    assert not any(_pushes_var(p, "messages") for p in pushes)
    assert len([p for p in pushes if _pushes_var(p, "new_messages")]) == 2  # send, end
    chat = await other.chat()
    users = [m.content.split(" [[")[0] for m in chat._shown_messages() if m.role == "user"]
    assert users == ["old 0", "old 1", "new"]

    # Editing a loaded turn shows the new version in its place, without what followed.
    old_1 = next(m for m in chat._shown_messages() if m.content.startswith("old 1"))
    await other.fire(ChatState, "start_edit", message_id=old_1.id)
    form = {"edit_text": "edited [[sim tokens=30 tps=2000 ttft=0]]"}
    await other.fire(LiveState, "save_edit", form_data=form)
    await wait_idle(other)
    chat = await other.chat()
    users = [m.content.split(" [[")[0] for m in chat._shown_messages() if m.role == "user"]
    assert users == ["old 0", "edited"]
    assert [m.role for m in chat._shown_messages()] == ["user", "assistant"] * 2


@pytest.mark.parametrize(
    ("limit", "history", "new"),
    [
        (2, ["user", "assistant"] * 2, ["user", "assistant"]),
        (3, ["user", "assistant", "user"], ["assistant", "user", "assistant"]),
    ],
    ids=["folded-at-a-send", "folded-at-a-reply"],
)
async def test_new_turns_fold_into_the_history_past_the_limit(
    tab, sim, monkeypatch, limit, history, new
):
    """`new_messages` stays short: past `fold_limit` it joins the history (one full
    resend), whether the send or the background reply crosses it; nothing shown changes."""
    monkeypatch.setattr("ai_chat.state.chat.MIN_FOLD_MESSAGES", limit)
    await tab.open()
    for i in range(3):
        await tab.send(f"fold {i} [[sim tokens=20 tps=2000 ttft=0]]")
        await wait_idle(tab)
    chat = await tab.chat()
    assert [m.role for m in chat.messages] == history
    assert [m.role for m in chat.new_messages] == new
    users = [m.content.split(" [[")[0] for m in chat._shown_messages() if m.role == "user"]
    assert users == ["fold 0", "fold 1", "fold 2"]


async def _second_turn_pushes(tab, ttft: float) -> list:
    """The pushes of a turn in a chat already open with one turn in it."""
    await tab.open()
    await tab.send(f"one [[sim tokens=5 tps=1000 ttft=0 tag={unique_tag()}]]")
    await wait_idle(tab)
    before = len(tab.pushes())
    # Streamed over 0.5 s: a reply over in a few ms could end before its first text is
    # pushed on a loaded host (the turn's end then shows it), and there would be no first text.
    await tab.send(f"two [[sim tokens=10 tps=20 ttft={ttft} tag={unique_tag()}]]")
    await wait_idle(tab)
    return tab.pushes()[before:]


async def test_a_turn_in_an_open_chat_sends_nothing_more_before_its_first_text(tab, sim):
    """Between Send and the first text the tab already shows all there is (the user turn,
    "thinking"): the turn's start and the stream's opening frame push nothing."""
    pushes = await _second_turn_pushes(tab, ttft=0.3)
    first_text = next(i for i, push in enumerate(pushes) if _live_text_in(push))
    send_delta, clear_composer = pushes[:first_text]  # the send handler's two emits
    assert _pushes_var(send_delta, "new_messages") and not send_delta.events
    assert not clear_composer.delta and clear_composer.events


async def test_a_turn_resends_only_the_vars_whose_value_changes(tab, sim):
    """Reflex resends every var assigned, changed or not: a turn's start and end assign only
    what changes (the conversation stays, nothing was being edited, no thinking was shown)."""
    pushes = await _second_turn_pushes(tab, ttft=0)
    start, end = pushes[0], pushes[-1]
    unchanged_at_start = ("editing_id", "stopping", "live_conversation_id", "live_text_head")
    assert _pushes_var(start, "generating") and _pushes_var(start, "new_messages")
    assert not any(_pushes_var(start, name) for name in unchanged_at_start)
    assert _pushes_var(end, "generating")  # the turn's end
    assert not any(_pushes_var(end, name) for name in ("stopping", "live_thinking"))
