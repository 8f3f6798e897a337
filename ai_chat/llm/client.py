"""Builds the AsyncAnthropic clients: our retry policy, our timeouts, pools in shards."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2

from ai_chat.config import Settings
from ai_chat.llm import network


def make_client(
    settings: Settings, ssl_context: ssl.SSLContext | None = None
) -> anthropic.AsyncAnthropic:
    """One client: one connection pool (a worker holds several, see ClientShards).

    `max_retries=0`: the SDK would sleep on any `retry-after` (even an hour) before the
    stream opens; `stream.stream_reply` retries itself, with the wait capped.
    The read timeout is the stall detector: the longest silence we accept.
    With `settings.own_network` off, the SDK's httpx client is left exactly as it ships.
    """
    # The SDK's pool limits and keep-alive. A TLS context is costly to build, so the shards
    # share one.
    http_client = (
        anthropic.DefaultAsyncHttpxClient()
        if ssl_context is None
        else anthropic.DefaultAsyncHttpxClient(verify=ssl_context)
    )
    if settings.own_network:
        network.install(http_client, merge_chunks=settings.chunk_merger)
    kwargs: dict[str, Any] = {
        "http_client": http_client,
        "api_key": settings.effective_api_key,
        "max_retries": 0,
        "timeout": httpx2.Timeout(
            connect=settings.connect_timeout_s,
            read=settings.stall_timeout_s,
            write=30.0,
            pool=10.0,
        ),
    }
    if settings.effective_base_url:
        kwargs["base_url"] = settings.effective_base_url
    return anthropic.AsyncAnthropic(**kwargs)


class ClientShards:
    """Several clients, each reply leasing one: the first with room, else the least busy.

    httpcore scans every connection of a client's pool whenever a request starts or
    ends, so with hundreds of streams on one client each turn pays for all of them.
    Filling the shards in order keeps each pool to about `per_shard` streams under load,
    and at low traffic every reply on the first client, where its kept-alive connection is
    reused (no new TLS handshake).
    """

    def __init__(self, settings: Settings, count: int, per_shard: int = 32) -> None:
        shared_tls = httpx2.create_ssl_context()  # one TLS context for all: see make_client
        self.clients = tuple(make_client(settings, shared_tls) for _ in range(max(1, count)))
        self.per_shard = max(1, per_shard)
        self.active = [0] * len(self.clients)  # leases held, per client

    @contextlib.contextmanager
    def lease(self) -> Iterator[anthropic.AsyncAnthropic]:
        index = self._pick()
        self.active[index] += 1
        try:
            yield self.clients[index]
        finally:
            self.active[index] -= 1

    def _pick(self) -> int:
        for index, held in enumerate(self.active):
            if held < self.per_shard:
                return index
        return min(range(len(self.active)), key=self.active.__getitem__)
