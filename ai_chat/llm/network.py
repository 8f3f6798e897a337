"""httpcore's network layer on plain asyncio transports, for the Claude stream.

Claude streams one HTTP chunk per token. httpcore's default (anyio) backend wraps every
socket read in a fresh cancel scope (`fail_after`), yields to the loop on every read even with
data waiting, and returns one received chunk per read. Here the socket is read only while a
reader waits (the kernel gathers a paced reader's batch meanwhile), a read returns all that is
buffered, and the read timeout is one timer per connection. What it saves per token:
docs/PERFORMANCE.md (`benchmarks.read_cost`). `AI_CHAT_OWN_NETWORK=0` leaves httpx's stock
transport in place.

`AsyncioBackend` implements httpcore's public `AsyncNetworkBackend` interface: TCP, TLS
(`loop.start_tls`, which also serves HTTPS proxies), Unix sockets, read and write
timeouts, and write flow control.
"""

from __future__ import annotations

import asyncio
import select
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpcore2
import httpx2

from ai_chat.llm import httpx_pools
from ai_chat.llm.buffering import BufferingProtocol
from ai_chat.llm.chunked import ChunkMerger

_RECORD_MAX = 65536  # response bytes kept until a merger starts (headers and a little body)


class AsyncioStream(httpcore2.AsyncNetworkStream):
    def __init__(
        self, connection: asyncio.Transport, protocol: BufferingProtocol, may_merge: bool
    ) -> None:
        self._connection, self._protocol = connection, protocol
        self._may_merge = may_merge  # AI_CHAT_CHUNK_MERGER
        # Awaited before a read that would wait on the socket: set per response by a
        # reader that only looks every so often (see `paced_reads`).
        self.pace: Callable[[], Awaitable[None]] | None = None
        # The response read since the request was written (its start only), so that a
        # chunk merger can tell where in the body the parser is when it is installed.
        self._response: list[bytes] | None = [] if may_merge else None
        self._response_len = 0
        self._merger: ChunkMerger | None = None
        self._watching_idle = False  # the loop reads the socket while the connection idles

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.has_news and self.pace is not None:
            await self.pace()  # the socket isn't read meanwhile: the kernel gathers the batch
        if not protocol.has_news:
            try:
                await protocol.wait_readable(self._connection, timeout)
            except TimeoutError as exc:
                raise httpcore2.ReadTimeout(str(exc) or "read timed out") from exc
        if protocol.chunks:
            data = protocol.take(max_bytes)
            if self._merger is not None:
                return self._merger.feed(data)
            if self._response is not None:
                self._record(data)
            return data
        if protocol.error is not None:
            raise httpcore2.ReadError(str(protocol.error)) from protocol.error
        return b""  # end of stream

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._connection.is_closing():
            raise httpcore2.WriteError("the connection is closed")
        # A new request: its response is recorded only if a merger may start on it.
        self._response = [] if self._may_merge else None
        self._response_len, self._merger = 0, None
        if self._watching_idle:  # a response again: read only while a reader waits
            self._watching_idle = False
            self._connection.pause_reading()
        try:
            self._connection.write(buffer)
            await self._protocol.wait_writable(timeout)
        except TimeoutError as exc:
            raise httpcore2.WriteTimeout(str(exc) or "write timed out") from exc
        except OSError as exc:
            raise httpcore2.WriteError(str(exc)) from exc

    def _record(self, data: bytes) -> None:
        self._response_len += len(data)
        if self._response_len > _RECORD_MAX:
            self._response = None  # headers this long: this response's chunks aren't merged
        else:
            self._response.append(data)  # type: ignore[union-attr]

    def merge_chunks(self, on: bool) -> None:
        """From now on, merge (or stop merging) the complete chunks of each read of this
        chunked response into one (see `chunked`)."""
        self._merger = None
        if on and self._may_merge and self._response is not None:
            self._merger = ChunkMerger.after(b"".join(self._response))
        self._response = None

    async def aclose(self) -> None:
        # abort, not close: a closing response must not wait for buffered bytes to drain.
        self._connection.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(
                    self._connection, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as exc:
            self._connection.abort()
            raise httpcore2.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            self._connection.abort()
            raise httpcore2.ConnectError(str(exc)) from exc
        if tls is None:  # pragma: no cover - only if the loop was closing
            raise httpcore2.ConnectError("TLS could not be started")
        self._protocol.transport = tls
        return AsyncioStream(tls, self._protocol, self._may_merge)

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._connection.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._connection.get_extra_info("sockname")
        if info == "server_addr":
            return self._connection.get_extra_info("peername")
        if info == "socket":
            return self._connection.get_extra_info("socket")
        if info == "is_readable":
            # An idle pooled connection with something to read has been closed by the server.
            # httpcore asks every idle connection of the pool on each request, so instead of a
            # poll each time the socket is polled once, and the loop then reads it while the
            # connection idles (nothing arrives unless the server closes it): its callbacks
            # answer from then on.
            if self._protocol.has_news or self._connection.is_closing():
                return True
            if self._watching_idle:
                return False
            self._watching_idle = True
            self._connection.resume_reading()
            return _readable(self._connection.get_extra_info("socket"))
        return None


@asynccontextmanager
async def paced_reads(
    network_stream: object, pace: Callable[[], Awaitable[None]] | None, chunked: bool = False
) -> AsyncIterator[bool]:
    """Within the block, `pace` runs before each socket wait of this response's connection,
    and a `chunked` body's chunks are merged per read. Yields whether pacing could be
    installed (the connection must be ours); the pooled connection forgets both on the way
    out, before another request can reuse it."""
    if not isinstance(network_stream, AsyncioStream):
        yield False
        return
    network_stream.pace = pace
    network_stream.merge_chunks(chunked)
    try:
        yield pace is not None
    finally:
        network_stream.pace = None
        network_stream.merge_chunks(False)


def install(http_client: httpx2.AsyncClient, merge_chunks: bool = True) -> int:
    """Puts `AsyncioBackend` under every connection pool of an httpx client (its default
    transport and any proxy mounts); returns how many. Raises `httpx_pools.PoolsMoved` if
    it can't: a client left on the stock backend would pass unnoticed."""
    backend = AsyncioBackend(merge_chunks)
    pools = httpx_pools.pools_under(http_client)
    for pool in pools:
        httpx_pools.set_network_backend(pool, backend)
    return len(pools)


class AsyncioBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self, merge_chunks: bool = True) -> None:
        self.merge_chunks = merge_chunks  # see `chunked`; AI_CHAT_CHUNK_MERGER

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        connect = loop.create_connection(BufferingProtocol, host, port, local_addr=local)
        return await _connected(connect, timeout, socket_options, self.merge_chunks)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        connect = asyncio.get_running_loop().create_unix_connection(BufferingProtocol, path)
        return await _connected(connect, timeout, socket_options, self.merge_chunks)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _connected(
    connect: Any, timeout: float | None, options: Iterable[Any] | None, may_merge: bool
) -> AsyncioStream:
    try:
        async with asyncio.timeout(timeout):
            connection, protocol = await connect
    except TimeoutError as exc:
        raise httpcore2.ConnectTimeout(str(exc) or "connect timed out") from exc
    except OSError as exc:
        raise httpcore2.ConnectError(str(exc)) from exc
    try:
        for option in options or ():
            connection.get_extra_info("socket").setsockopt(*option)
    except OSError as exc:
        connection.abort()
        raise httpcore2.ConnectError(str(exc)) from exc
    return AsyncioStream(connection, protocol, may_merge)


def _readable(sock: Any) -> bool:
    """Whether a recv would return at once (data, or the server's close) — checked without
    reading, since the loop isn't reading this socket while the connection sits idle."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
