"""Drives the app's states through Reflex's real event processor (memory state manager),
recording every push a browser would receive. No browser, real background tasks."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from unittest import mock

from reflex.istate.manager import StateManager
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken
from reflex.state import State, StateUpdate
from reflex_base.constants import RouteVar
from reflex_base.event.processor import BaseStateEventProcessor
from reflex_base.utils.format import format_event_handler
from reflex_base.utils.serializers import serialize

from ai_chat.auth import identity
from ai_chat.auth.accounts import new_token
from ai_chat.generation.fanout import close_all_watchers
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.store import users
from ai_chat.store.db import run_write

# The cookie a new Tab presents unless told otherwise (set by the `tab` fixtures: a tab
# made in a test, e.g. a second tab, is the same user's unless given another cookie).
_default_cookie = ""
_owners: dict[str, str] = {}  # cookie -> user id


async def sign_in_user(username: str, *, is_admin: bool = False) -> str:
    """A new user with a live session (as /_auth/signin makes them; the password hash is a
    placeholder: these tests don't sign in by password). Returns the Cookie header."""
    token = new_token()

    def create(session) -> str:
        user = users.create_user(session, username, "", is_admin=is_admin)
        users.add_session(session, user.id, token, identity.session_lifetime())
        return user.id

    cookie = f"{identity.SESSION_COOKIE}={token}"
    _owners[cookie] = await run_write(create)
    return cookie


def use_default_cookie(cookie: str) -> None:
    global _default_cookie
    _default_cookie = cookie


@dataclasses.dataclass
class Push:
    token: str
    delta: dict[str, Any]
    events: list[Any]
    at: float = dataclasses.field(default_factory=time.time)  # wall clock, like the simulator

    @property
    def size(self) -> int:
        return len(json.dumps(self.delta, default=serialize))


class RecordingNamespace:
    """Stands in for the socket.io namespace: keeps what would be sent to each tab."""

    def __init__(self) -> None:
        self.pushes: list[Push] = []

    async def emit_update(self, update: StateUpdate, token: str) -> None:
        self.pushes.append(Push(token, dict(update.delta), list(update.events)))


@dataclasses.dataclass
class Tab:
    """One browser tab (a client token) talking to the processor."""

    processor: BaseStateEventProcessor
    manager: StateManager
    namespace: RecordingNamespace
    token: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    path: str = "/"
    query: dict[str, str] = dataclasses.field(default_factory=dict)
    cookie: str = dataclasses.field(default_factory=lambda: _default_cookie)

    @property
    def owner(self) -> str:
        """The user id of this tab's cookie (as stored in `conversation.owner`)."""
        return _owners[self.cookie]

    def router_data(self) -> dict[str, Any]:
        return {
            RouteVar.PATH: "/[[c]]/[[cid]]",  # pages/chat.py CHAT_ROUTE
            RouteVar.ORIGIN: self.path,
            RouteVar.QUERY: dict(self.query),
            RouteVar.CLIENT_TOKEN: self.token,
            RouteVar.SESSION_ID: "sid-" + self.token,
            RouteVar.HEADERS: {"origin": "http://test", "cookie": self.cookie},
        }

    async def fire(self, state_cls: type, handler: str, **payload: Any) -> None:
        from reflex.event import Event

        name = format_event_handler(state_cls.event_handlers[handler])
        future = await self.processor.enqueue(
            self.token, Event(name=name, payload=payload, router_data=self.router_data())
        )
        await future  # the handler (not background tasks it started) has run

    async def open(self, cid: str = "") -> None:
        """Navigate to `/` or `/c/<cid>` (runs on_load)."""
        self.path, self.query = (f"/c/{cid}", {"c": "c", "cid": cid}) if cid else ("/", {})
        await self.fire(LiveState, "load_route")

    async def send(self, text: str) -> None:
        await self.fire(LiveState, "send", form_data={"message": text})

    async def stop(self) -> None:
        await self.fire(LiveState, "stop")

    async def chat(self) -> ChatState:
        async with self.manager.modify_state(BaseStateToken(ident=self.token, cls=State)) as root:
            return await root.get_state(ChatState)

    async def live(self) -> LiveState:
        async with self.manager.modify_state(BaseStateToken(ident=self.token, cls=State)) as root:
            return await root.get_state(LiveState)

    async def live_text(self) -> str:
        live = await self.live()
        return live.live_text_head + live.live_text_tail

    def pushes(self) -> list[Push]:
        return [p for p in self.namespace.pushes if p.token == self.token]

    def frontend_events(self) -> list[Any]:
        return [e for p in self.pushes() for e in p.events]


@contextlib.asynccontextmanager
async def event_processor(
    manager: StateManager | None = None,
) -> AsyncIterator[tuple[BaseStateEventProcessor, StateManager, RecordingNamespace]]:
    manager = manager or StateManagerMemory()
    namespace = RecordingNamespace()
    processor = BaseStateEventProcessor(graceful_shutdown_timeout=5).configure(
        state_manager=manager,
        event_namespace=namespace,  # type: ignore[arg-type]
    )
    # The first event of a tab would re-run the page's on_load through the app registry;
    # tests call `Tab.open` (the on_load handler) explicitly instead.
    close_all_watchers(stopping=False)
    with mock.patch.object(processor, "_rehydrate", new=mock.AsyncMock()):
        async with processor:
            try:
                yield processor, manager, namespace
            finally:  # the tabs' watchers end now, not after the processor's grace period
                close_all_watchers()
