"""The hostile-input suite's tab and the checks every case ends with (test_hostile_inputs.py).

A case is driven through Reflex's real event processor (tests/state/harness.py) on SQLite or
PostgreSQL, the simulator standing in for Claude. Afterwards the tab must still be usable: a
normal message streams, is stored, and the sidebar finds it; and no push to the browser may
hold text the socket can't encode (a lone surrogate kills the connection for good).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from reflex.istate.manager.token import BaseStateToken
from reflex.state import State
from reflex_base.utils.serializers import serialize

from ai_chat.state.sidebar import SidebarState
from ai_chat.state.views import ChatMessage
from tests.conftest import eventually
from tests.state.harness import Tab, event_processor, sign_in_user, use_default_cookie

FAST = "[[sim tokens=8 tps=100000 ttft=0]]"
# The reply is the user's text, directives removed: exact "model output" for a case.
ECHO = "[[sim echo=1 tps=100000 ttft=0 chunk=256]]"
S = TypeVar("S", bound=State)


@contextlib.asynccontextmanager
async def hostile_tab(configure: Callable[..., None], db_url: str) -> AsyncIterator[Tab]:
    """A signed-in tab whose app uses `db_url` (`configure`: the `app_env` fixture)."""
    # Replies up to 64,000 characters: an echoed message at the 50,000 limit is not cut.
    configure(db_url=db_url, max_output_tokens="16000")
    use_default_cookie(await sign_in_user(f"mallory-{uuid.uuid4().hex[:8]}"))
    try:
        async with event_processor() as (processor, manager, namespace):
            yield Tab(processor, manager, namespace)
    finally:
        use_default_cookie("")


async def settle(tab: Tab, timeout: float = 20) -> None:
    """Until the tab's reply (if any) has ended."""

    async def idle() -> bool:
        return not (await tab.live()).generating

    await eventually(idle, timeout, "the reply to end")


async def fire(tab: Tab, state: type, handler: str, **payload: Any) -> BaseException | None:
    """Fire an event; what it raised, if anything (a real socket would log it and go on)."""
    try:
        await tab.fire(state, handler, **payload)
    except Exception as exc:  # noqa: BLE001 - reported by the caller's assertion
        return exc
    return None


def socket_problems(tab: Tab) -> list[str]:
    """Pushes the socket could not send: the server writes frames as UTF-8."""
    problems = []
    for push in tab.pushes():
        try:
            json.dumps([push.delta, push.events], default=serialize, ensure_ascii=False).encode()
        except UnicodeEncodeError as exc:
            problems.append(f"{exc.reason}: {exc.object[exc.start - 20 : exc.end]!r}")
    return problems


def toasts(tab: Tab, since: int = 0) -> list[str]:
    """The payloads of the toasts shown since push `since` (as text)."""
    events = [e for p in tab.pushes()[since:] for e in p.events]
    return [str(e.payload) for e in events if "__toast" in str(e.payload)]


async def shown(tab: Tab) -> list[ChatMessage]:
    chat = await tab.chat()
    return [*chat.messages, *chat.new_messages]


async def stored(tab: Tab, conversation_id: str) -> list[ChatMessage]:
    """The conversation as the database has it: opened again in this tab."""
    await tab.open(conversation_id)
    chat = await tab.chat()
    assert chat.conversation_id == conversation_id, "the conversation must still open"
    return list(chat.messages)


async def assert_usable(tab: Tab) -> None:
    """A normal message afterwards streams, is stored, and the sidebar's search finds it;
    and nothing the tab was sent, before or now, is beyond the socket."""
    word = f"canary{uuid.uuid4().hex[:10]}"
    await tab.open()
    await tab.send(f"{word} still here {FAST}")
    await settle(tab)
    messages = await shown(tab)
    roles = [m.role for m in messages[-2:]]
    assert roles == ["user", "assistant"], f"a normal message afterwards got {roles}"
    assert messages[-1].status == "complete", f"its reply: {messages[-1].error}"
    cid = (await tab.chat()).conversation_id
    user, reply = await stored(tab, cid)
    assert user.content.startswith(word), "the normal message is stored"
    assert reply.status == "complete", "its reply is stored"
    await tab.fire(SidebarState, "search", query=word)

    async def found() -> bool:
        return await listed(tab) == [cid]

    await eventually(found, 10, "the search to list the new conversation")
    await tab.fire(SidebarState, "search", query="")
    problems = socket_problems(tab)
    assert not problems, f"pushes the socket can't send (UTF-8): {problems}"


def _root_token(tab: Tab) -> BaseStateToken:
    return BaseStateToken(ident=tab.token, cls=State)


async def substate(tab: Tab, cls: type[S]) -> S:
    """The tab's `cls` state as it is now (a copy to read, not to change)."""
    async with tab.manager.modify_state(_root_token(tab)) as root:
        return await root.get_state(cls)


async def listed(tab: Tab) -> list[str]:
    """The ids the sidebar lists."""
    return [item.id for item in (await substate(tab, SidebarState)).items]


async def new_conversation(tab: Tab, text: str = "") -> str:
    """A conversation with one normal turn; its id."""
    await tab.open()
    await tab.send(f"{text or 'a plain start'} {FAST}")
    await settle(tab)
    return (await tab.chat()).conversation_id
