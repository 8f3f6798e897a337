"""Accounts end to end at the service level, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ai_chat.auth import accounts, identity
from ai_chat.auth.accounts import AccountError
from ai_chat.generation import runtime
from ai_chat.store import conversations
from ai_chat.store.db import run_read, run_write, session_scope
from ai_chat.store.users import LEGACY_OWNER, UserStatus, find_user

PASSWORD = "correct horse battery"


def cookie(token: str) -> str:
    return f"{identity.SESSION_COOKIE}={token}"


async def test_first_admin_claims_the_single_user_conversations(accounts_db):
    async with session_scope() as session:
        old = await conversations.create_conversation(session, LEGACY_OWNER, "from before")
    assert await accounts.setup_needed()
    token = await accounts.create_first_admin("Admin", PASSWORD)
    who = await identity.resolve(cookie(token))
    assert who is not None and who.username == "admin" and who.is_admin
    async with session_scope() as session:
        mine = await conversations.get_conversation(session, who.user_id, old.id)
        assert mine is not None and mine.title == "from before"
        assert await conversations.get_conversation(session, LEGACY_OWNER, old.id) is None
    assert not await accounts.setup_needed()
    with pytest.raises(AccountError) as refused:
        await accounts.create_first_admin("second", PASSWORD)
    assert refused.value.code == "has_admin"


async def test_sign_in_and_out(accounts_db):
    await accounts.create_first_admin("admin", PASSWORD)
    with pytest.raises(AccountError) as wrong:
        await accounts.sign_in("admin", "not the password")
    with pytest.raises(AccountError) as unknown:
        await accounts.sign_in("nobody", PASSWORD)
    assert wrong.value.message == unknown.value.message  # doesn't tell which names exist
    token = await accounts.sign_in("ADMIN ", PASSWORD)
    assert await identity.resolve(cookie(token)) is not None
    ended = await accounts.sign_out(token)
    assert len(ended) == 1
    assert await identity.resolve(cookie(token)) is None
    assert await identity.resolve(cookie("forged")) is None
    assert await identity.resolve("") is None


async def test_tokens_are_stored_hashed(accounts_db):
    token = await accounts.create_first_admin("admin", PASSWORD)

    def stored(session):
        from sqlmodel import select

        from ai_chat.store.users import AuthSession, User

        return [s.token_hash for s in session.exec(select(AuthSession))], [
            u.password_hash for u in session.exec(select(User))
        ]

    hashes, passwords = await run_read(stored)
    assert token not in hashes and len(hashes) == 1
    assert passwords[0].startswith("$argon2id$") and PASSWORD not in passwords[0]


async def test_changing_the_password_ends_the_other_sessions(accounts_db):
    first = await accounts.create_first_admin("admin", PASSWORD)
    second = await accounts.sign_in("admin", PASSWORD)
    me = await identity.resolve(cookie(first))
    assert me is not None
    with pytest.raises(AccountError):
        await accounts.change_password(me.user_id, me.session_id, "wrong password", "new password!")
    ended = await accounts.change_password(me.user_id, me.session_id, PASSWORD, "new password!")
    assert len(ended) == 1
    assert await identity.resolve(cookie(first)) is not None
    identity.clear_cache()  # as another worker sees it after CACHE_S
    assert await identity.resolve(cookie(second)) is None
    await accounts.sign_in("admin", "new password!")


async def test_signup_modes(accounts_db, monkeypatch):
    admin_token = await accounts.create_first_admin("admin", PASSWORD)
    admin = await identity.resolve(cookie(admin_token))
    assert admin is not None
    with pytest.raises(AccountError) as closed:
        await accounts.sign_up("bob", PASSWORD)
    assert closed.value.code == "closed"
    invite = await accounts.create_invite(admin.user_id)
    assert await accounts.sign_up("bob", PASSWORD, invite=invite)
    with pytest.raises(AccountError) as reused:
        await accounts.sign_up("carol", PASSWORD, invite=invite)
    assert reused.value.code == "invite"

    monkeypatch.setenv("AI_CHAT_SIGNUP", "approval")
    runtime.reset()
    assert await accounts.sign_up("carol", PASSWORD) is None
    with pytest.raises(AccountError) as pending:
        await accounts.sign_in("carol", PASSWORD)
    assert pending.value.code == "pending"
    carol = await run_read(find_user, "carol")
    await accounts.set_status(admin.user_id, carol.id, UserStatus.ACTIVE)
    assert await accounts.sign_in("carol", PASSWORD)

    monkeypatch.setenv("AI_CHAT_SIGNUP", "open")
    runtime.reset()
    assert await accounts.sign_up("dave", PASSWORD)
    with pytest.raises(AccountError) as taken:
        await accounts.sign_up("Dave", PASSWORD)
    assert taken.value.code == "taken"
    for bad_name in ("", "a", "x" * 65, "has space", "<script>", "ü" * 3):
        with pytest.raises(AccountError) as invalid:
            await accounts.sign_up(bad_name, PASSWORD)
        assert invalid.value.code == "username"
    with pytest.raises(AccountError) as short:
        await accounts.sign_up("erin", "short")
    assert short.value.code == "password_short"


async def test_disabling_ends_the_sessions_and_admins_cannot_lock_themselves_out(accounts_db):
    admin_token = await accounts.create_first_admin("admin", PASSWORD)
    admin = await identity.resolve(cookie(admin_token))
    assert admin is not None
    bob = await accounts.create_user("bob", PASSWORD)
    bob_token = await accounts.sign_in("bob", PASSWORD)
    assert await identity.resolve(cookie(bob_token)) is not None
    ended = await accounts.set_status(admin.user_id, bob.id, UserStatus.DISABLED)
    assert len(ended) == 1
    assert await identity.resolve(cookie(bob_token)) is None
    with pytest.raises(AccountError) as disabled:
        await accounts.sign_in("bob", PASSWORD)
    assert disabled.value.code == "disabled"
    with pytest.raises(AccountError) as own:
        await accounts.set_status(admin.user_id, admin.user_id, UserStatus.DISABLED)
    assert own.value.code == "self"


async def test_reset_password_and_limits(accounts_db):
    await accounts.create_first_admin("admin", PASSWORD)
    bob = await accounts.create_user("bob", PASSWORD)
    bob_token = await accounts.sign_in("bob", PASSWORD)
    await accounts.set_limits(bob.id, {"messages_per_minute": 2, "tokens_per_day": 0})
    who = await identity.resolve(cookie(bob_token))
    assert who is not None and who.messages_per_minute == 2 and who.tokens_per_day == 0
    assert who.concurrent_replies is None
    await accounts.reset_password(bob.id, "brand new password")
    assert await identity.resolve(cookie(bob_token)) is None
    await accounts.sign_in("bob", "brand new password")


async def test_an_expired_session_is_refused(accounts_db):
    token = await accounts.create_first_admin("admin", PASSWORD)

    def expire(session):
        from datetime import timedelta

        from sqlmodel import select

        from ai_chat.store.users import AuthSession

        row = session.exec(select(AuthSession)).one()
        row.expires_at = row.expires_at - timedelta(days=365)
        session.add(row)

    await run_write(expire)
    identity.clear_cache()
    assert await identity.resolve(cookie(token)) is None
