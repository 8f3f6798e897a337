"""`DirectEmitManager` over a real Socket.IO server and real WebSocket tabs."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import socketio
import uvicorn

from ai_chat.socket_emits import DirectEmitManager, use_direct_emits
from tests.conftest import wait_until
from tests.support.client import NAMESPACE, ReflexTab

ROOT = Path(__file__).resolve().parents[1]


class Served:
    """A Socket.IO server on the test's own loop, its tabs' sids by token, and a record of
    which task handed each packet to the engine."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"])
        use_direct_emits(self.sio)
        self.sids: dict[str, str] = {}
        self.senders: list[asyncio.Task | None] = []
        self.tabs: list[ReflexTab] = []  # closed by the fixture
        send_packet = self.sio.eio.send_packet

        async def recorded_send(eio_sid: str, pkt: Any) -> None:
            self.senders.append(asyncio.current_task())
            await send_packet(eio_sid, pkt)

        self.sio.eio.send_packet = recorded_send

        @self.sio.on("connect", namespace=NAMESPACE)
        async def connect(sid: str, environ: dict, auth: Any) -> None:
            token = environ["QUERY_STRING"].split("token=")[1].split("&")[0]
            self.sids[token] = sid

    async def tab(self, port: int, received: list[Any]) -> ReflexTab:
        tab = ReflexTab("127.0.0.1", port, on_push=lambda data, size, at: received.append(data))
        await tab.connect()
        self.tabs.append(tab)
        return tab


@pytest.fixture
async def served() -> AsyncIterator[tuple[Served, int]]:
    app = Served()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    asgi = socketio.ASGIApp(app.sio, socketio_path=NAMESPACE.strip("/"))
    config = uvicorn.Config(asgi, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await wait_until(lambda: server.started, what="the server")
    yield app, sock.getsockname()[1]
    for tab in app.tabs:
        await tab.close()
    server.should_exit = True
    await task


async def test_an_emit_to_one_tab_is_sent_from_the_emitting_task_in_order(served):
    app, port = served
    got_a: list[Any] = []
    got_b: list[Any] = []
    a = await app.tab(port, got_a)
    await app.tab(port, got_b)
    app.senders.clear()  # the connect handshakes' packets
    for i in range(5):
        await app.sio.emit("event", {"delta": i}, to=app.sids[a.token], namespace=NAMESPACE)
    await wait_until(lambda: len(got_a) == 5, what="five pushes")
    assert got_a == [{"delta": i} for i in range(5)]
    assert app.senders == [asyncio.current_task()] * 5  # no task per packet
    assert got_b == []  # only the addressed tab


async def test_a_room_of_several_gets_the_stock_sends(served):
    app, port = served
    got_a: list[Any] = []
    got_b: list[Any] = []
    a, b = await app.tab(port, got_a), await app.tab(port, got_b)
    for tab in (a, b):
        await app.sio.enter_room(app.sids[tab.token], "both", namespace=NAMESPACE)
    app.senders.clear()
    await app.sio.emit("event", ("x", 1), room="both", namespace=NAMESPACE)
    await wait_until(lambda: got_a and got_b, what="both tabs' push")
    assert got_a == got_b == ["x"]  # a tuple is several arguments, as before
    assert len(app.senders) == 2
    assert asyncio.current_task() not in app.senders  # one task per recipient


async def test_an_emit_to_a_closed_tab_is_dropped_and_later_emits_still_arrive(served):
    app, port = served
    got_b: list[Any] = []
    a, b = await app.tab(port, []), await app.tab(port, got_b)
    gone = app.sids[a.token]
    eio_sid = app.sio.manager.eio_sid_from_sid(gone, NAMESPACE)
    app.sio.eio.sockets[eio_sid].closed = True  # closed, not yet unregistered
    await app.sio.emit("event", {"lost": True}, to=gone, namespace=NAMESPACE)  # no raise
    await app.sio.emit("event", {"kept": True}, to=app.sids[b.token], namespace=NAMESPACE)
    await wait_until(lambda: got_b, what="the open tab's push")
    assert got_b == [{"kept": True}]


async def test_a_server_already_in_use_keeps_its_manager(served):
    app, port = served
    await app.tab(port, [])  # its connect initialized the manager
    assert isinstance(app.sio.manager, DirectEmitManager)
    with pytest.raises(RuntimeError, match="already in use"):
        use_direct_emits(app.sio)


@pytest.mark.parametrize(
    ("env", "manager"),
    [
        ({}, "DirectEmitManager"),
        ({"AI_CHAT_DIRECT_EMITS": "0"}, "AsyncManager"),
        ({"AI_CHAT_STOCK": "1"}, "AsyncManager"),
    ],
)
def test_the_app_emits_directly_unless_switched_to_stock(env, manager):
    probe = "from ai_chat.ai_chat import app; print(type(app.sio.manager).__name__)"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AI_CHAT_")}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**clean, **env},
    )
    assert result.stdout.strip().splitlines()[-1] == manager
