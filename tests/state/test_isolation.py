"""Two users, one app: user B's forged events can't read, change or stop user A's
conversation. A foreign id behaves exactly as a missing one.

Every path of issue 20: list, search, open, export, rename, delete, settings, regenerate /
retry, edit, continue, stop (also through a second worker over Redis). Events are fired
through Reflex's real event processor with B's own session cookie and payloads B chooses
(A's ids). Where the UI can't even get A's id into B's tab (export, settings, the turn
actions read it from the tab's state, which only `load_route` sets after an owner check),
the tests go further than any event can: they write A's ids straight into B's tab state,
so the owner-scoped store and the generation runner are what must refuse.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import pytest
from reflex.istate.manager.token import BaseStateToken
from reflex.state import State
from reflex_base.utils.serializers import serialize

from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.settings import SettingsState
from ai_chat.state.sidebar import SidebarState
from ai_chat.state.views import ChatMessage
from ai_chat.store import conversations as store
from ai_chat.store.db import read_scope
from tests.conftest import eventually, wait_until
from tests.generation.helpers import stored_messages, unique_tag
from tests.state.harness import Tab, sign_in_user
from tests.state.test_send_stream import wait_idle

SECRET = "Aardvark-sapphire-7731 is the vault code"
SECRET_PROMPT = "You guard the orchid ledger of user A."
QUICK = "[[sim tokens=10 tps=1000 ttft=0]]"


def _text_of(tab: Tab) -> str:
    """Everything pushed to the tab: state deltas and frontend events."""
    return "\n".join(json.dumps(p.delta, default=serialize) + repr(p.events) for p in tab.pushes())


def _assert_never_saw(tab: Tab, *secrets: str) -> None:
    seen = _text_of(tab)
    for secret in secrets:
        assert secret not in seen, f"{secret!r} reached user B's tab"


def _toasts(tab: Tab, since: int = 0) -> str:
    return repr([e for p in tab.pushes()[since:] for e in p.events])


async def _state(tab: Tab, cls: type):
    async with tab.manager.modify_state(BaseStateToken(ident=tab.token, cls=State)) as root:
        return await root.get_state(cls)


async def _hold(tab: Tab, cid: str, messages: list[ChatMessage] | None = None) -> None:
    """Write A's conversation id (and message ids) into B's tab state: what no event can do
    (`load_route` refuses A's id; there are no setters), the worst case for the layers below."""
    async with tab.manager.modify_state(BaseStateToken(ident=tab.token, cls=State)) as root:
        chat = await root.get_state(ChatState)
        chat.conversation_id, chat.title = cid, "held"
        chat.messages, chat.new_messages = list(messages or []), []


async def _a_conversation(a: Tab) -> tuple[str, list]:
    """A's conversation: a system prompt in its settings and the secret (echoed back)."""
    await a.open()
    await a.fire(SettingsState, "open_dialog")
    await a.fire(SettingsState, "save", form={"system_prompt": SECRET_PROMPT})
    await a.send(f"{SECRET} [[sim echo=1 ttft=0 tps=1000]]")
    await wait_idle(a)
    chat = await a.chat()
    cid = chat.conversation_id
    rows = await stored_messages(cid, owner=a.owner)
    assert [r.role for r in rows] == ["user", "assistant"]
    assert SECRET in rows[1].content  # the echo: A's secret is in both turns
    return cid, rows


async def _snapshot(a: Tab, cid: str):
    """What the DB holds of A's conversation: title, settings and every turn."""
    async with read_scope() as session:
        conv = await store.get_conversation(session, a.owner, cid)
    assert conv is not None, "A's conversation is gone"
    rows = await stored_messages(cid, owner=a.owner)
    return (
        conv.title,
        {k: getattr(conv, k) for k in store.SETTING_FIELDS},
        [(r.id, r.role, r.content, r.status) for r in rows],
    )


@pytest.fixture
async def users(tab: Tab) -> tuple[Tab, Tab]:
    """A (the `tab` fixture's user) and B, another user with their own session and tab."""
    bob = Tab(tab.processor, tab.manager, tab.namespace, cookie=await sign_in_user("bob"))
    return tab, bob


async def test_list_and_search_show_only_your_own(users, sim):
    a, b = users
    cid, _ = await _a_conversation(a)
    await b.open()
    await b.send(f"B's own words {QUICK}")
    await wait_idle(b)
    own = (await b.chat()).conversation_id

    await b.fire(SidebarState, "refresh")
    assert [i.id for i in (await _state(b, SidebarState)).items] == [own]
    for query in (SECRET, SECRET.split()[0], SECRET_PROMPT, cid, ""):
        await b.fire(SidebarState, "search", query=query)
        listed = [i.id for i in (await _state(b, SidebarState)).items]
        assert cid not in listed, query
    await b.fire(SidebarState, "search", query=SECRET.split()[0])
    assert (await _state(b, SidebarState)).items == []
    await b.fire(SidebarState, "load_more")
    assert cid not in [i.id for i in (await _state(b, SidebarState)).items]

    await a.fire(SidebarState, "search", query=SECRET.split()[0])  # the control: A finds it
    assert [i.id for i in (await _state(a, SidebarState)).items] == [cid]
    # B typed the secret (the query comes back): no list B was sent ever held A's chat.
    lists = [
        json.dumps(value, default=serialize)
        for p in b.pushes()
        for substate in p.delta.values()
        for name, value in substate.items()
        if name.startswith("items")
    ]
    assert lists and not any(cid in listed for listed in lists)


async def test_opening_a_foreign_id_is_opening_a_missing_one(users, sim):
    a, b = users
    cid, _ = await _a_conversation(a)
    missing = uuid.uuid4().hex

    await b.open(cid)
    foreign_events = b.frontend_events()
    chat = await b.chat()
    assert (chat.conversation_id, chat.title, chat.messages) == ("", "", [])

    other_b = Tab(b.processor, b.manager, b.namespace, cookie=b.cookie)
    await other_b.open(missing)
    missing_events = other_b.frontend_events()
    assert "does not exist" in repr(foreign_events)
    # Same answer, event for event (toast ids aside).
    assert [e.name for e in foreign_events] == [e.name for e in missing_events]
    assert repr(foreign_events).count("does not exist") == repr(missing_events).count(
        "does not exist"
    )
    _assert_never_saw(b, SECRET, SECRET_PROMPT)


async def test_export_of_a_foreign_conversation_is_refused(users, sim):
    a, b = users
    cid, _ = await _a_conversation(a)
    await b.open(cid)  # refused: B's tab holds no id
    for fmt in ("md", "json"):
        before = len(b.pushes())
        await b.fire(ChatState, "export", fmt=fmt)
        assert "download" not in _toasts(b, before).lower()
    await _hold(b, cid)  # even with A's id in B's tab state
    for fmt in ("md", "json"):
        before = len(b.pushes())
        await b.fire(ChatState, "export", fmt=fmt)
        assert "no longer exists" in _toasts(b, before)
        assert "download" not in _toasts(b, before).lower()
    _assert_never_saw(b, SECRET, SECRET_PROMPT)


async def test_forged_setvar_cannot_put_a_foreign_id_in_a_tab(users, sim):
    """Reflex's built-in `setvar` handler is callable from the socket: with no setters it
    must not be a way to put A's ids into B's tab."""
    a, b = users
    cid, rows = await _a_conversation(a)
    await b.open()
    forged = [
        (ChatState, "conversation_id", cid),
        (ChatState, "editing_id", rows[0].id),
        (LiveState, "live_conversation_id", cid),
        (SidebarState, "rename_id", cid),
        (SidebarState, "delete_id", cid),
    ]
    for cls, name, value in forged:
        with contextlib.suppress(Exception):  # refused, by error or by doing nothing
            await b.fire(cls, "setvar", var_name=name, value=value)
        assert getattr(await _state(b, cls), name) != value, f"setvar set {cls.__name__}.{name}"


async def test_rename_of_a_foreign_conversation_changes_nothing(users, sim):
    a, b = users
    cid, _ = await _a_conversation(a)
    before = await _snapshot(a, cid)
    await b.open()
    answers = []
    for target in (cid, uuid.uuid4().hex):  # A's id, then a missing one: the same answer
        await b.fire(SidebarState, "open_rename", conversation_id=target, title="whatever")
        pushes = len(b.pushes())
        await b.fire(SidebarState, "save_rename", form_data={"title": "Renamed by B"})
        answers.append(_toasts(b, pushes).replace(target, "<id>"))
    assert "error" in answers[0] and answers[0] == answers[1], answers
    assert await _snapshot(a, cid) == before
    assert cid not in [i.id for i in (await _state(b, SidebarState)).items]
    _assert_never_saw(b, SECRET, SECRET_PROMPT)


async def test_delete_of_a_foreign_conversation_changes_nothing(users, sim):
    a, b = users
    cid, _ = await _a_conversation(a)
    before = await _snapshot(a, cid)
    await b.open()
    await b.fire(SidebarState, "open_delete", conversation_id=cid, title="whatever")
    await b.fire(LiveState, "confirm_delete")
    await _hold(b, cid)  # and with A's id as B's open conversation
    await b.fire(SidebarState, "open_delete", conversation_id=cid, title="whatever")
    await b.fire(LiveState, "confirm_delete")
    assert await _snapshot(a, cid) == before
    await a.open(cid)  # A still opens it, whole
    assert len((await a.chat()).messages) == 2
    _assert_never_saw(b, SECRET, SECRET_PROMPT)


async def test_settings_of_a_foreign_conversation_are_neither_read_nor_written(users, sim):
    a, b = users
    cid, _ = await _a_conversation(a)
    before = await _snapshot(a, cid)
    await b.open(cid)  # refused: B's settings dialog is B's own new chat's
    await b.fire(SettingsState, "open_dialog")
    assert (await _state(b, SettingsState)).system_prompt != SECRET_PROMPT

    await _hold(b, cid)
    pushes = len(b.pushes())
    await b.fire(SettingsState, "open_dialog")
    assert "no longer exists" in _toasts(b, pushes)
    assert (await _state(b, SettingsState)).system_prompt != SECRET_PROMPT
    pushes = len(b.pushes())
    await b.fire(
        SettingsState,
        "save",
        form={"system_prompt": "B was here", "model": "claude-haiku-5-5"},
    )
    assert "no longer exists" in _toasts(b, pushes)
    assert await _snapshot(a, cid) == before
    _assert_never_saw(b, SECRET, SECRET_PROMPT)


@pytest.mark.parametrize("action", ["send", "regenerate", "retry", "edit", "continue"])
async def test_turn_actions_on_a_foreign_conversation_change_nothing(users, sim, action):
    """B's tab holding A's conversation id and A's message ids: a new turn, a regenerated
    (or retried) reply, an edit and a continue all fail without touching A's turns, and
    nothing of A's reaches Claude on B's behalf or B's tab."""
    a, b = users
    cid, rows = await _a_conversation(a)
    before = await _snapshot(a, cid)
    user_row = rows[0]
    tag = unique_tag()
    forged = f"B's forged turn [[sim echo=1 ttft=0 tps=1000 tag={tag}]]"
    held = [
        ChatMessage(id=user_row.id, role="user", content=forged),
        ChatMessage(id=rows[1].id, role="assistant", content="", status="cancelled"),
    ]
    await b.open()
    await _hold(b, cid, held)
    if action == "send":
        await b.send(forged)
    elif action in ("regenerate", "retry"):  # Retry is Regenerate on a failed/stopped reply
        await b.fire(LiveState, "regenerate")
    elif action == "edit":
        await b.fire(ChatState, "start_edit", message_id=user_row.id)
        await b.send(forged)
    else:
        await b.fire(LiveState, "continue_reply")
    await wait_idle(b)
    await b.fire(LiveState, "generate")  # a forged extra `generate`: nothing to claim

    # Refused as a deleted conversation, said in the reply's bubble (no toast repeats it).
    refused = (await b.chat())._shown_messages()[-1]
    assert "nothing was sent to Claude" in (refused.error or "") + _toasts(b)
    assert sim.recorder.find(tag) == []
    assert await _snapshot(a, cid) == before
    for record in sim.recorder.all():  # nothing of A's was sent to Claude for B
        if record.tag == tag or "forged" in json.dumps(record.messages):
            assert SECRET not in json.dumps(record.messages)
            assert SECRET_PROMPT not in json.dumps(record.system)
    _assert_never_saw(b, SECRET, SECRET_PROMPT)
    await a.open(cid)
    assert [m.id for m in (await a.chat()).messages] == [r[0] for r in before[2]]


async def _streaming(a: Tab, tokens: int = 400, tps: int = 100) -> tuple[str, str]:
    """A's reply streaming in A's own conversation: (conversation id, simulator tag)."""
    cid, _ = await _a_conversation(a)
    tag = unique_tag()
    await a.send(f"{SECRET} again [[sim tokens={tokens} tps={tps} ttft=0 tag={tag}]]")

    async def streams() -> bool:
        return bool(await a.live_text())

    await eventually(streams, what="A's reply to stream")
    return cid, tag


async def _forge_stops(b: Tab, cid: str) -> None:
    """Everything B can send that stops a reply: Stop, a forged `generate`, and deleting
    A's conversation (which stops its replies on every worker)."""
    await b.open(cid)
    await b.fire(LiveState, "stop")
    await b.fire(LiveState, "generate")
    await b.fire(SidebarState, "open_delete", conversation_id=cid, title="x")
    await b.fire(LiveState, "confirm_delete")
    await _hold(b, cid)
    await b.fire(LiveState, "stop")
    await b.fire(SidebarState, "open_delete", conversation_id=cid, title="x")
    await b.fire(LiveState, "confirm_delete")


async def test_stop_from_another_user_does_not_stop_the_reply(users, sim):
    a, b = users
    cid, tag = await _streaming(a)
    await _forge_stops(b, cid)
    assert (await a.live()).generating and not (await a.live()).stopping
    await wait_idle(a, timeout=30)
    (record,) = sim.recorder.find(tag)
    assert record.outcome == "complete", record.outcome
    rows = await stored_messages(cid, owner=a.owner)
    assert rows[-1].status == "complete"
    _assert_never_saw(b, SECRET, SECRET_PROMPT)


@pytest.fixture
async def second_worker(app_env):
    """This process as a second worker of a Redis-backed deployment: its cancellation is
    the Redis channel (Stop published to the worker that streams)."""
    from tests.conftest import redis_or_missing

    redis_url = await redis_or_missing()
    app_env(redis_url=redis_url)
    yield redis_url


async def test_stop_from_another_user_on_another_worker_does_not_stop_the_reply(second_worker, sim):
    """A's reply streams on worker 1 (its own GenerationService and Redis channel); B's tab
    is on worker 2 (this process's runtime). B's stops reach nothing; the control — a stop
    of a generation B doesn't own, published on the same channel — shows the channel is
    live, so the first result is not an artifact of a dead channel."""
    from ai_chat.config import get_settings
    from ai_chat.generation import runtime
    from ai_chat.generation.live_reply import LiveReplies, LiveSnapshot
    from ai_chat.generation.redis_cancellation import RedisCancellation
    from ai_chat.generation.runner import GenerationService
    from tests.generation.helpers import make_job
    from tests.state.harness import event_processor

    worker_1 = GenerationService(
        settings=get_settings(),
        client_lease=runtime.client_lease,
        cancellation=RedisCancellation(second_worker),
        live=LiveReplies(),
    )
    alice = await sign_in_user("alice")
    bob = await sign_in_user("bob")
    async with event_processor() as (processor, manager, namespace):
        a = Tab(processor, manager, namespace, cookie=alice)
        b = Tab(processor, manager, namespace, cookie=bob)
        cid, _ = await _a_conversation(a)  # A's history, on worker 2 like any tab
        tag = unique_tag()
        job = make_job(f"{SECRET} [[sim tokens=300 tps=100 ttft=0 tag={tag}]]", cid, owner=a.owner)
        updates: list = []

        async def consume() -> None:
            async for update in worker_1.run(job):
                updates.append(update)

        task = asyncio.create_task(consume())
        try:
            await wait_until(lambda: any(isinstance(u, LiveSnapshot) and u.text for u in updates))
            await wait_until(lambda: worker_1.cancellation.is_running(job.generation_id))
            await _forge_stops(b, cid)
            await asyncio.wait_for(task, 30)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert updates[-1].message.status == "complete"
        (record,) = sim.recorder.find(tag)
        assert record.outcome == "complete"
        _assert_never_saw(b, SECRET, SECRET_PROMPT)

        # The control: the same channel does carry a stop from worker 2 to worker 1.
        control = make_job("control [[sim tokens=3000 tps=100 ttft=0]]", cid, owner=a.owner)
        updates = []

        async def consume_control() -> None:
            async for update in worker_1.run(control):
                updates.append(update)

        task = asyncio.create_task(consume_control())
        await wait_until(lambda: worker_1.cancellation.is_running(control.generation_id))
        assert await runtime.get_service().cancellation.request_stop(control.generation_id)
        await asyncio.wait_for(task, 10)
        assert updates[-1].message.status == "cancelled"
    await worker_1.cancellation.close()
