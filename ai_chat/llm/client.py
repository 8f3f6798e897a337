"""Builds the AsyncAnthropic client: our retry policy, our timeouts."""

from __future__ import annotations

import anthropic
import httpx2

from ai_chat.config import Settings
from ai_chat.llm import network


def make_client(settings: Settings) -> anthropic.AsyncAnthropic:
    """One client per process (it pools connections).

    `max_retries=0`: the SDK would sleep on any `retry-after` (even an hour) inside
    `stream()`; `stream.open_stream` retries itself, with the wait capped.
    The read timeout is the stall detector: the longest silence we accept.
    """
    http_client = anthropic.DefaultAsyncHttpxClient()  # the SDK's pool limits and keepalive
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
