"""The asyncio protocol under `network.AsyncioStream`: one reader, reads only while it waits.

Between reads the transport is paused, so the kernel gathers what arrives and the next read
takes it all in one system call; the read timeout is one timer per connection.
"""

from __future__ import annotations

import asyncio
from typing import cast


class BufferingProtocol(asyncio.Protocol):
    """Collects received bytes for the one reader, and reads the socket only while that
    reader waits: between reads the kernel holds what arrives, so the next read takes it
    in one system call instead of one loop wake-up per TCP segment (per token)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: list[bytes] = []
        self.eof = False
        self.error: BaseException | None = None
        self._reader: asyncio.Future[None] | None = None
        self._read_deadline: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._writable: asyncio.Future[None] | None = None

    # -- asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream connection: asyncio's and uvloop's both have the `Transport` methods.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if exc is not None:
            self.error = exc
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_exception(exc or ConnectionResetError("connection lost"))

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    # -- used by the stream
    def _wake(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.set_result(None)

    @property
    def has_news(self) -> bool:
        return bool(self.chunks) or self.eof

    def take(self, max_bytes: int) -> bytes:
        data = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
        if len(data) > max_bytes:
            self.chunks = [data[max_bytes:]]
            return data[:max_bytes]
        self.chunks = []
        return data

    async def wait_readable(self, transport: asyncio.Transport, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        self._reader = loop.create_future()
        self._read_deadline = None if timeout is None else loop.time() + timeout
        deadline = self._read_deadline
        if deadline is not None and (self._watchdog is None or self._watchdog.when() > deadline):
            if self._watchdog is not None:
                self._watchdog.cancel()  # armed for a later deadline than this read's
            self._watchdog = loop.call_at(deadline, self._check_stall)
        transport.resume_reading()
        try:
            await self._reader
        finally:
            self._reader = self._read_deadline = None
            if not transport.is_closing():
                transport.pause_reading()

    def _check_stall(self) -> None:
        """One timer per connection, re-armed only when it fires: a timer per read (armed
        and cancelled a few times a second per stream) costs more than the read itself."""
        self._watchdog = None
        if self._reader is None or self._read_deadline is None:
            return  # nobody waiting: the next wait arms it again
        loop = asyncio.get_running_loop()
        if loop.time() >= self._read_deadline:
            if not self._reader.done():
                self._reader.set_exception(TimeoutError("no data within the read timeout"))
        else:
            self._watchdog = loop.call_at(self._read_deadline, self._check_stall)

    async def wait_writable(self, timeout: float | None) -> None:
        if self._writable is not None and not self._writable.done():
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._writable)
