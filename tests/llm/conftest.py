"""The llm tests run each reply through both paths: the tuned one (our network backend, the
chunk merger) and the libraries' stock one (`AI_CHAT_STOCK=1`: httpx's own transport)."""

from __future__ import annotations

import anthropic
import pytest

from ai_chat.config import load_settings
from ai_chat.llm.client import make_client

PATHS = {"tuned": {}, "stock": {"AI_CHAT_STOCK": "1"}}


@pytest.fixture(params=list(PATHS))
def reply_path(request: pytest.FixtureRequest) -> str:
    return request.param


def client_for(base_url: str, path: str, **env: str) -> anthropic.AsyncAnthropic:
    """A client as the app builds it, on `path`, for the Messages API at `base_url`."""
    return make_client(load_settings({**PATHS[path], **env, "ANTHROPIC_BASE_URL": base_url}))


async def connection_of_a_reply(client: anthropic.AsyncAnthropic) -> object:
    """The network stream one short reply was read from (httpcore's `network_stream`)."""
    async with client.messages.with_streaming_response.create(
        model="claude-sonnet-5-5",
        messages=[{"role": "user", "content": "Hi [[sim tokens=5 tps=1000 ttft=0]]"}],
        max_tokens=50,
        stream=True,
    ) as response:
        await response.http_response.aread()
        return response.http_response.extensions["network_stream"]
