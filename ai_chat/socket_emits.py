"""Socket.IO emits to one tab sent in place, without a task per packet.

Reflex sends every state update to one tab's sid, inside `async with self` (the tab's state
lock held). python-socketio's manager sends each packet in a task of its own and awaits
`asyncio.wait` on it: per push a task, a wait, and two more turns of the event loop before
the emitter goes on, each as long as everything else ready in a busy worker. The send
itself only puts the packet on the socket's queue for its writer task, so awaiting it in
the emitting task does the same work without the detour.

This module is the one seam into python-socketio's internals (5.x). It relies on:
`AsyncManager.rooms` (namespace -> room -> {sid: engine.io sid}), `AsyncManager.emit`'s
signature, `AsyncServer.manager` / `manager_initialized` (the manager is swapped before
the first connection), `server.packet_class` and `server.eio.send_packet`.
`AI_CHAT_DIRECT_EMITS=0` keeps python-socketio's own manager.
"""

from __future__ import annotations

import logging
from typing import Any

# python-socketio and python-engineio ship no type hints.
import socketio  # type: ignore[import-untyped]
from engineio import packet as eio_packet  # type: ignore[import-untyped]
from engineio.exceptions import SocketIsClosedError  # type: ignore[import-untyped]
from socketio import packet

log = logging.getLogger(__name__)


class DirectEmitManager(socketio.AsyncManager):  # type: ignore[misc]  # untyped base
    """An `AsyncManager` whose emits to a single recipient send from the emitting task.
    Rooms of several, callbacks and skipped sids go the stock way."""

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        room = to or room
        eio_sid = None if callback or skip_sid else self._only_participant(namespace, room)
        if eio_sid is None:
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
            return
        if isinstance(data, tuple):  # as the stock manager: a tuple is several arguments
            args = list(data)
        else:
            args = [] if data is None else [data]
        encoded = self.server.packet_class(
            packet.EVENT, namespace=namespace, data=[event, *args]
        ).encode()
        for part in encoded if isinstance(encoded, list) else [encoded]:
            try:
                message = eio_packet.Packet(eio_packet.MESSAGE, part)
                await self.server.eio.send_packet(eio_sid, message)
            except SocketIsClosedError:  # the tab went away; its state stays on the server
                log.debug("emit to closed socket %s dropped", eio_sid)
                return
            except Exception:  # as a failed send task: logged, never raised into the emitter
                log.exception("emit to %s failed", eio_sid)
                return

    def _only_participant(self, namespace: str, room: Any) -> str | None:
        """The engine.io sid of a room of exactly one (every tab's own sid is one)."""
        if not isinstance(room, str):
            return None
        members = self.rooms.get(namespace, {}).get(room)
        if members is None or len(members) != 1:
            return None
        eio_sid: str = next(iter(members.values()))
        return eio_sid


def use_direct_emits(sio: socketio.AsyncServer) -> None:
    """Installs `DirectEmitManager` on a server that has no connections yet."""
    if sio.manager_initialized:
        raise RuntimeError("the Socket.IO manager is already in use")
    manager = DirectEmitManager()
    manager.set_server(sio)
    sio.manager = manager
