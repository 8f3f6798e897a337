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
