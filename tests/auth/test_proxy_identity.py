"""Proxy mode: users are created on first sight; a disabled one stays out."""

from __future__ import annotations

from ai_chat.auth import accounts, identity
from ai_chat.generation import runtime
from ai_chat.store.users import UserStatus


async def test_proxy_users_are_created_on_first_sight(accounts_db, monkeypatch):
    admin_token = await accounts.create_first_admin("admin", "password123")
    admin = await identity.resolve(f"{identity.SESSION_COOKIE}={admin_token}")
    assert admin is not None
    monkeypatch.setenv("AI_CHAT_AUTH", "proxy")
    runtime.reset()
    identity.clear_cache()
    # A session cookie means nothing in proxy mode: only the guard's cookie counts.
    assert await identity.resolve(f"{identity.SESSION_COOKIE}={admin_token}") is None
    alice = await identity.resolve(f"{identity.PROXY_COOKIE}=alice")
    assert alice is not None and alice.username == "alice" and not alice.is_admin
    identity.clear_cache()
    again = await identity.resolve(f"{identity.PROXY_COOKIE}=alice")
    assert again is not None and again.user_id == alice.user_id  # the same account
    await accounts.set_status(admin.user_id, alice.user_id, UserStatus.DISABLED)
    assert await identity.resolve(f"{identity.PROXY_COOKIE}=alice") is None


async def test_none_mode_is_the_single_local_user(accounts_db, monkeypatch):
    monkeypatch.setenv("AI_CHAT_AUTH", "none")
    runtime.reset()
    who = await identity.resolve("")
    assert who is not None and who.user_id == "local"
    from ai_chat.config import get_settings

    assert get_settings().host == "127.0.0.1"
