"""Builds the AsyncAnthropic clients: our retry policy, our timeouts, pools in shards."""

from __future__ import annotations

import itertools
import ssl

import anthropic
import httpx2

from ai_chat.config import Settings
from ai_chat.llm import network


def make_client(
    settings: Settings, ssl_context: ssl.SSLContext | None = None
) -> anthropic.AsyncAnthropic:
    """One client: one connection pool (a worker holds several, see ClientShards).

    `max_retries=0`: the SDK would sleep on any `retry-after` (even an hour) inside
    `stream()`; `stream.open_stream` retries itself, with the wait capped.
    The read timeout is the stall detector: the longest silence we accept.
    """
    # The SDK's pool limits and keep-alive; building a TLS context costs ~40 ms of CPU.
    tls = {"verify": ssl_context} if ssl_context is not None else {}
    http_client = anthropic.DefaultAsyncHttpxClient(**tls)
    network.install(http_client)
    kwargs: dict = {
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
    """Several clients, handed out in turn, one per reply.

    httpcore scans every connection of a client's pool whenever a request starts or
    ends, so with hundreds of streams on one client each turn pays for all of them
    (7–9 % of a turn's CPU at 200–300 streams). `count` pools cut each scan to 1/count, and
    together keep `count` × the SDK's keep-alive limit open between turns.
    """

    def __init__(self, settings: Settings, count: int) -> None:
        shared_tls = httpx2.create_ssl_context()  # one TLS context for all: see make_client
        self.clients = tuple(make_client(settings, shared_tls) for _ in range(max(1, count)))
        self._turns = itertools.count()

    def __call__(self) -> anthropic.AsyncAnthropic:
        return self.clients[next(self._turns) % len(self.clients)]
