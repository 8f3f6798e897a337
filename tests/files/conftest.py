from __future__ import annotations

import pytest

from tests.conftest import dispose_engines_after

_dispose_engines = pytest.fixture(autouse=True)(dispose_engines_after)


@pytest.fixture
def accounts_db(monkeypatch: pytest.MonkeyPatch, db_url: str):
    """The app's settings pointed at a migrated database (SQLite and PostgreSQL)."""
    from ai_chat.auth import identity
    from ai_chat.config import get_settings
    from ai_chat.generation import runtime

    monkeypatch.setenv("AI_CHAT_DB_URL", db_url)
    for name in ("AI_CHAT_AUTH", "AI_CHAT_SIGNUP", "AI_CHAT_REDIS_URL", "REFLEX_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    runtime.reset()
    identity.clear_cache()
    get_settings.cache_clear()
    yield db_url
    runtime.reset()
    identity.clear_cache()
    get_settings.cache_clear()
