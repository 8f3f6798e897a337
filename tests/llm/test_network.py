"""`llm/network.py`: httpcore's network layer on asyncio transports, over real sockets,
on both event loops the app runs on (asyncio in tests and dev, uvloop in production)."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing

import httpcore2
import httpx2
import pytest
import trustme
import uvloop

from ai_chat.config import load_settings
from ai_chat.llm import httpx_pools, network
from ai_chat.llm.client import make_client
from ai_chat.llm.events import TextDelta
from ai_chat.llm.stream import ReplyRequest, RetryPolicy, stream_reply
from ai_chat.simulator.script import reply_text
from tests.conftest import wait_until

LOOPS = {"asyncio": asyncio.run, "uvloop": uvloop.run}


@pytest.fixture(params=list(LOOPS))
def run(request) -> Callable[[Awaitable], object]:
    return LOOPS[request.param]


async def _serve(handler) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_make_client_streams_claude_through_pooled_asyncio_connections(sim, run) -> None:
    async def main() -> None:
        client = make_client(load_settings({"ANTHROPIC_BASE_URL": sim.base_url}))
        request = ReplyRequest(
            model="claude-sonnet-5-5",
            messages=[{"role": "user", "content": "Hi [[sim tokens=40 tps=400 ttft=0]]"}],
            max_tokens=500,
        )
        paces = 0

        async def pace() -> None:
            nonlocal paces
            paces += 1

        streams = []
        for _ in range(2):
            async with client.messages.with_streaming_response.create(
                model=request.model, messages=request.messages, max_tokens=50, stream=True
            ) as response:
                await response.http_response.aread()
                streams.append(response.http_response.extensions["network_stream"])
        assert isinstance(streams[0], network.AsyncioStream)
        assert streams[0] is streams[1]  # kept alive and reused

        async with aclosing(stream_reply(client, request, RetryPolicy(), pace)) as events:
            text = "".join([e.text async for e in events if isinstance(e, TextDelta)])
        assert text == reply_text("Hi", 40)
        assert paces > 0
        assert streams[0].pace is None  # the pacer left with its response
        await client.close()

    run(main())


def test_a_connection_the_server_closed_is_not_reused(run) -> None:
    async def main() -> None:
        served = 0

        async def one_response_then_close(reader, writer) -> None:
            nonlocal served
            await reader.readuntil(b"\r\n\r\n")
            served += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            writer.close()  # no "Connection: close": the client must notice by itself

        server, port = await _serve(one_response_then_close)
        async with httpx2.AsyncClient() as client:
            assert network.install(client) == 1
            first = await client.get(f"http://127.0.0.1:{port}/")
            stream = first.extensions["network_stream"]
            await wait_until(lambda: stream.get_extra_info("is_readable"), what="the close seen")
            second = await client.get(f"http://127.0.0.1:{port}/")
        assert first.text == second.text == "ok" and served == 2
        assert second.extensions["network_stream"] is not stream
        server.close()

    run(main())


def test_an_idle_connection_closed_later_is_noticed_and_not_reused(run) -> None:
    """The close comes after the pool first looked at the idle connection: it is seen by
    the loop watching the idle socket, and a new request then gets a new connection."""

    async def main() -> None:
        close_now = asyncio.Event()
        served = 0

        async def respond_then_close_when_told(reader, writer) -> None:
            nonlocal served
            await reader.readuntil(b"\r\n\r\n")
            served += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            if served == 1:  # only the first connection is closed, once told
                await close_now.wait()
                writer.close()
            else:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
                await reader.read()  # until the client leaves

        server, port = await _serve(respond_then_close_when_told)
        async with httpx2.AsyncClient() as client:
            network.install(client)
            first = await client.get(f"http://127.0.0.1:{port}/")
            stream = first.extensions["network_stream"]
            assert not stream.get_extra_info("is_readable")  # idle, still open
            close_now.set()
            await wait_until(lambda: stream.get_extra_info("is_readable"), what="the close seen")
            second = await client.get(f"http://127.0.0.1:{port}/")
            third = await client.get(f"http://127.0.0.1:{port}/")  # reused, read as before
        assert first.text == second.text == third.text == "ok" and served == 2
        assert second.extensions["network_stream"] is not stream
        assert third.extensions["network_stream"] is second.extensions["network_stream"]
        server.close()

    run(main())


def test_reads_time_out_return_what_piled_up_and_end_at_eof(run) -> None:
    async def main() -> None:
        release = asyncio.Event()

        async def talk(reader, writer) -> None:
            writer.write(b"one,")
            writer.write(b"two,")
            await writer.drain()
            await release.wait()
            writer.write(b"three")
            await writer.drain()
            writer.close()

        server, port = await _serve(talk)
        stream = await network.AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        data = b""
        while data != b"one,two,":
            data += await stream.read(65536, timeout=30)
        started = time.monotonic()
        with pytest.raises(httpcore2.ReadTimeout):
            await stream.read(65536, timeout=0.05)
        assert time.monotonic() - started < 10  # its own timeout, not the 30 s of the reads before
        release.set()
        rest = b""
        while chunk := await stream.read(2, timeout=5):  # max_bytes is honoured
            assert len(chunk) <= 2
            rest += chunk
        assert rest == b"three"
        await stream.aclose()
        server.close()

    run(main())


def test_connect_errors_are_httpcore_errors(run) -> None:
    async def main() -> None:
        server, port = await _serve(lambda r, w: None)
        server.close()
        await server.wait_closed()
        with pytest.raises(httpcore2.ConnectError):
            await network.AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)

    run(main())


def test_tls_is_verified_and_carries_data(run) -> None:
    async def main() -> None:
        ca = trustme.CA()
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost").configure_cert(server_ctx)
        client_ctx = ssl.create_default_context()
        ca.configure_trust(client_ctx)

        async def echo_upper(reader, writer) -> None:
            try:
                line = await reader.readline()
                writer.write(line.upper())
                await writer.drain()
            except (ssl.SSLError, ConnectionError):
                pass  # the refused handshake below
            writer.close()

        server = await asyncio.start_server(echo_upper, "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        backend = network.AsyncioBackend()

        plain = await backend.connect_tcp("127.0.0.1", port, timeout=5)
        tls = await plain.start_tls(client_ctx, server_hostname="localhost", timeout=5)
        assert tls.get_extra_info("ssl_object") is not None
        await tls.write(b"secret\n", timeout=5)
        reply = b""
        while not reply.endswith(b"\n"):
            reply += await tls.read(65536, timeout=5)
        assert reply == b"SECRET\n"
        await tls.aclose()

        plain = await backend.connect_tcp("127.0.0.1", port, timeout=5)
        with pytest.raises(httpcore2.ConnectError):  # the certificate names localhost only
            await plain.start_tls(client_ctx, server_hostname="example.com", timeout=5)
        server.close()

    run(main())


def test_a_large_write_waits_for_the_reader(run) -> None:
    async def main() -> None:
        size = 32 << 20  # far beyond the socket buffers: the writer must pause and resume

        async def count(reader, writer) -> None:
            total = 0
            while total < size:
                total += len(await reader.read(1 << 16))
                await asyncio.sleep(0)
            writer.write(str(total).encode())
            await writer.drain()
            writer.close()

        server, port = await _serve(count)
        stream = await network.AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"x" * size, timeout=30)
        reply = b""
        while chunk := await stream.read(65536, timeout=30):
            reply += chunk
        assert int(reply) == size
        await stream.aclose()
        server.close()

    run(main())


def test_install_covers_the_default_transport_and_every_proxy_mount() -> None:
    proxy = httpx2.AsyncHTTPTransport(proxy="http://127.0.0.1:9")
    client = httpx2.AsyncClient(mounts={"https://": proxy, "http://internal": None})
    assert network.install(client) == 2


def test_install_fails_loudly_when_httpx_moved_its_pools() -> None:
    """A client whose transport has no httpcore pool where the seam looks (as after an
    upgrade that renamed `_pool`) is an error naming what moved, not a silent fallback."""

    class Elsewhere(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            raise NotImplementedError

    client = httpx2.AsyncClient(transport=Elsewhere())
    with pytest.raises(httpx_pools.PoolsMoved, match=r"Elsewhere\._pool .*AI_CHAT_OWN_NETWORK=0"):
        network.install(client)


def test_install_fails_loudly_when_httpcore_moved_the_network_backend(monkeypatch) -> None:
    client = httpx2.AsyncClient()
    (pool,) = httpx_pools.pools_under(client)
    monkeypatch.delattr(pool, "_network_backend")  # as if renamed upstream
    with pytest.raises(httpx_pools.PoolsMoved, match="_network_backend"):
        network.install(client)


def test_make_client_raises_rather_than_fall_back(monkeypatch) -> None:
    def moved(client: httpx2.AsyncClient) -> list:
        raise httpx_pools.PoolsMoved("moved")

    monkeypatch.setattr(httpx_pools, "pools_under", moved)
    with pytest.raises(httpx_pools.PoolsMoved):
        make_client(load_settings({}))
    make_client(load_settings({"AI_CHAT_OWN_NETWORK": "0"}))  # the stock path needs no seam
