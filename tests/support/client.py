"""A browser tab without the browser: Reflex's event protocol over one WebSocket.

Engine.IO v4 / Socket.IO v5 on path ``/_event``, namespace ``/_event``, token in the query,
the boot event (``hydrate_and_load``) in the CONNECT packet's auth, exactly as the compiled
frontend (``.web/utils/state.js``) does. Pushes are ``42/_event,["event", {"delta": …}]``.

Why not ``socketio.AsyncClient``: it needs aiohttp (not in this project's locks) and spawns a
task per received message; on a 2-core machine the load generator shares the CPUs with the
server, so a lean client (wsproto, one ``json.loads`` per push) distorts capacity least. It
also sees every raw frame, which is what "bytes per push" counts.

Signed in as a browser is: the handshake carries the session cookie a sign-in set
(`benchmarks/accounts.py`, or a test's own sign-in) and the page's Origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

NAMESPACE = "/_event"
EVENT_PREFIX = f"42{NAMESPACE},"
BOOT_EVENT = "reflex___state____state.hydrate_and_load"

# (decoded push, payload bytes of the frame, wall-clock receive time)
PushHandler = Callable[[dict[str, Any], int, float], None]


def router_data(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    """What the frontend's ``withRouterData`` attaches to every event."""
    data: dict[str, Any] = {"pathname": path, "asPath": path}
    if query:
        data["query"] = dict(query)
    return data


class ReflexTab:
    """One tab (client token) connected to a served Reflex app."""

    def __init__(
        self,
        host: str,
        port: int,
        on_push: PushHandler | None = None,
        *,
        cookie: str = "",
        origin: str = "",
    ) -> None:
        """`cookie`: the Cookie header of the handshake (the session a sign-in set);
        `origin`: its Origin header, as a browser sends it (none if "")."""
        self.host, self.port = host, port
        self.headers = [(b"cookie", cookie.encode())] if cookie else []
        if origin:
            self.headers.append((b"origin", origin.encode()))
        self.token = str(uuid.uuid4())
        self.on_push = on_push
        self.path, self.query = "/", {}
        self.frames = self.bytes_in = 0
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task | None = None
        self._connected: asyncio.Future[None] | None = None
        self._parts: list[str] = []
        self.closed = asyncio.Event()

    async def connect(self, path: str = "/", query: dict[str, str] | None = None) -> None:
        """Open the socket and hydrate `path` (which runs the page's on_load)."""
        self.path, self.query = path, dict(query or {})
        self._connected = asyncio.get_running_loop().create_future()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        target = f"{NAMESPACE}/?EIO=4&transport=websocket&token={self.token}"
        host = f"{self.host}:{self.port}"
        self._send_ws(Request(host=host, target=target, extra_headers=self.headers))
        self._reader_task = asyncio.create_task(self._read_loop())
        await asyncio.wait_for(asyncio.shield(self._connected), 30)

    async def emit(self, name: str, payload: dict[str, Any]) -> float:
        """Send one event as the frontend does; returns the wall-clock send time."""
        event = {"name": name, "payload": payload, "router_data": self._router_data()}
        sent_at = time.time()
        self._send_text(f"{EVENT_PREFIX}{json.dumps(['event', event])}")
        assert self._writer is not None
        await self._writer.drain()
        return sent_at

    async def close(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            with contextlib.suppress(Exception):
                self._send_text(f"41{NAMESPACE},")
                self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
        self.closed.set()

    def _router_data(self) -> dict[str, Any]:
        return router_data(self.path, self.query)

    def _send_ws(self, event: Any) -> None:
        assert self._writer is not None
        self._writer.write(self._ws.send(event))

    def _send_text(self, text: str) -> None:
        self._send_ws(Message(data=text))

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while data := await self._reader.read(262144):
                self._ws.receive_data(data)
                for event in self._ws.events():
                    self._handle(event)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.closed.set()
            if self._connected is not None and not self._connected.done():
                self._connected.set_exception(ConnectionError("socket closed before connect"))

    def _handle(self, event: Any) -> None:
        if isinstance(event, TextMessage):
            self._parts.append(event.data)
            if event.message_finished:
                text, self._parts = "".join(self._parts), []
                self._on_message(text)
        elif isinstance(event, Ping):
            self._send_ws(event.response())
        elif isinstance(event, RejectConnection):
            self._fail(f"websocket rejected: HTTP {event.status_code}")
        elif isinstance(event, CloseConnection):
            with contextlib.suppress(Exception):
                self._send_ws(event.response())
        elif not isinstance(event, AcceptConnection):
            pass  # binary frames etc. are not part of this protocol

    def _on_message(self, text: str) -> None:
        now = time.time()
        if text.startswith(EVENT_PREFIX):
            self.frames += 1
            size = len(text.encode())
            self.bytes_in += size
            name, data = json.loads(text[len(EVENT_PREFIX) :])[:2]
            if name == "event" and self.on_push is not None:
                self.on_push(data, size, now)
        elif text == "2":  # Engine.IO ping: answer or the server drops us
            self._send_text("3")
        elif text.startswith("0{"):  # Engine.IO open: join the namespace with the boot event
            boot = {"name": BOOT_EVENT, "payload": {}, "router_data": self._router_data()}
            self._send_text(f"40{NAMESPACE},{json.dumps({'event': boot})}")
        elif text.startswith(f"40{NAMESPACE},"):
            if self._connected is not None and not self._connected.done():
                self._connected.set_result(None)
        elif text.startswith(f"44{NAMESPACE},"):
            self._fail(f"namespace connect refused: {text}")

    def _fail(self, why: str) -> None:
        if self._connected is not None and not self._connected.done():
            self._connected.set_exception(ConnectionError(why))
