"""Signing in and out, signing up, and what admins do to accounts.

Every function returns what happened or raises `AccountError` with a message fit to show.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlmodel import Session

from ai_chat.auth import identity, passwords
from ai_chat.auth.passwords import PasswordRejected
from ai_chat.config import get_settings
from ai_chat.store import conversations
from ai_chat.store import users as store
from ai_chat.store.db import run_read, run_write
from ai_chat.store.users import User, UserStatus

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,63}$")
INVITE_LIFETIME = timedelta(days=7)
# What we tell people, by code: a code travels in a redirect's query (/signin?error=…), the
# text never does (a link can't put words in the app's mouth).
MESSAGES = {
    # Same for an unknown name and a wrong password: it doesn't tell which names exist.
    "credentials": "That username and password don't match an account.",
    "pending": "Your account is waiting for an admin's approval.",
    "disabled": "This account is disabled. Ask an admin.",
    "username": "Usernames are 2 to 64 characters: letters, digits and . _ @ + - "
    "(starting with a letter or digit).",
    "password_short": f"Use at least {passwords.MIN_PASSWORD_CHARS} characters for the password.",
    "password_long": f"Use at most {passwords.MAX_PASSWORD_CHARS} characters for the password.",
    "has_admin": "This app already has an admin. Sign in instead.",
    "closed": "Sign-up is closed here. Ask an admin for an account or an invite link.",
    "invite": "That invite link has expired or was already used.",
    "taken": "That username is taken. Choose another.",
    "current_password": "Your current password is not right.",
    "self": "You can't disable your own account.",
    "no_user": "No such user.",
    "throttled": "Too many failed sign-ins. Try again in a few minutes.",
    "origin": "That form came from another site; sign in from this app's own page.",
    "signed_out": "You are signed out. Sign in again.",
}


class AccountError(ValueError):
    """Something a person asked for that we refuse; `message` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return MESSAGES.get(self.code, "That didn't work. Please try again.")

    def __str__(self) -> str:
        return self.message


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def check_username(username: str) -> str:
    name = store.normalize_username(username)
    if not USERNAME.match(name):
        raise AccountError("username")
    return name


async def setup_needed() -> bool:
    """A fresh install: the first visitor creates the admin account."""
    return await run_read(store.count_users) == 0


async def _new_hash(password: str) -> str:
    try:
        return await passwords.hash_password(password)
    except PasswordRejected as exc:
        raise AccountError(
            "password_short" if len(password) < passwords.MIN_PASSWORD_CHARS else "password_long"
        ) from exc


async def create_first_admin(username: str, password: str) -> str:
    """Creates the admin (only while there is no account at all); returns a session token."""
    name, password_hash = check_username(username), await _new_hash(password)
    token = new_token()

    def create(session: Session) -> None:
        if store.count_users(session):
            raise AccountError("has_admin")
        admin = store.create_user(session, name, password_hash, is_admin=True)
        conversations.claim_conversations(session, store.LEGACY_OWNER, admin.id)
        store.add_session(session, admin.id, token, identity.session_lifetime())

    await run_write(create)
    return token


async def sign_in(username: str, password: str) -> str:
    """A new session token for these credentials (throttling is the caller's)."""
    name = store.normalize_username(username)
    user = await run_read(store.find_user, name) if len(name) <= 64 else None
    ok = await passwords.verify_password(user.password_hash if user else "", password)
    if user is None or not ok:
        raise AccountError("credentials")
    if user.status == UserStatus.PENDING.value:
        raise AccountError("pending")
    if user.status != UserStatus.ACTIVE.value:
        raise AccountError("disabled")
    token = new_token()
    await run_write(store.add_session, user.id, token, identity.session_lifetime())
    return token


async def sign_up(username: str, password: str, invite: str = "") -> str | None:
    """A new account by the sign-up mode (or an invite link): a session token, or None
    when the account waits for approval."""
    mode = get_settings().signup_mode
    if mode == "closed" and not invite:
        raise AccountError("closed")
    name, password_hash = check_username(username), await _new_hash(password)
    token = new_token()
    pending = mode == "approval" and not invite

    def create(session: Session) -> None:
        invited = store.usable_invite(session, invite) if invite else None
        if invite and invited is None:
            raise AccountError("invite")
        if store.find_user(session, name) is not None:
            raise AccountError("taken")
        status = UserStatus.PENDING if pending else UserStatus.ACTIVE
        user = store.create_user(session, name, password_hash, status=status)
        if invited is not None:
            invited.used_by = user.id
            session.add(invited)
        if not pending:
            store.add_session(session, user.id, token, identity.session_lifetime())

    await run_write(create)
    return None if pending else token


async def sign_out(token: str) -> list[str]:
    """Ends the session of this cookie; returns its id (for signing its tabs out)."""
    found = await run_read(store.session_user, token)
    if found is None:
        return []
    auth, user = found
    ended = await run_write(store.delete_sessions, user.id, "", auth.id)
    identity.forget(session_ids=frozenset(ended))
    return ended


async def change_password(user_id: str, session_id: str, old: str, new: str) -> list[str]:
    """Other sessions of the user end; returns their ids."""
    user = await run_read(store.get_user, user_id)
    if user is None or not await passwords.verify_password(user.password_hash, old):
        raise AccountError("current_password")
    password_hash = await _new_hash(new)

    def change(session: Session) -> list[str]:
        row = store.get_user(session, user_id)
        assert row is not None
        row.password_hash = password_hash
        session.add(row)
        return store.delete_sessions(session, user_id, except_id=session_id)

    ended = await run_write(change)
    identity.forget(session_ids=frozenset(ended))
    return ended


# ---- admin ----


async def create_user(username: str, password: str, *, is_admin: bool = False) -> User:
    name, password_hash = check_username(username), await _new_hash(password)

    def create(session: Session) -> User:
        if store.find_user(session, name) is not None:
            raise AccountError("taken")
        return store.create_user(session, name, password_hash, is_admin=is_admin)

    return await run_write(create)


async def create_invite(admin_id: str) -> str:
    token = new_token()
    await run_write(store.add_invite, admin_id, token, INVITE_LIFETIME)
    return token


async def set_status(admin_id: str, user_id: str, status: UserStatus) -> list[str]:
    """Approve, enable or disable an account; disabling ends its sessions."""
    if user_id == admin_id and status is not UserStatus.ACTIVE:
        raise AccountError("self")

    def change(session: Session) -> list[str]:
        user = _existing(session, user_id)
        user.status = status.value
        session.add(user)
        return [] if status is UserStatus.ACTIVE else store.delete_sessions(session, user_id)

    ended = await run_write(change)
    identity.forget(session_ids=frozenset(ended), user_id=user_id)
    return ended


async def reset_password(user_id: str, password: str) -> list[str]:
    """A new password set by an admin; the user's sessions end."""
    password_hash = await _new_hash(password)

    def change(session: Session) -> list[str]:
        user = _existing(session, user_id)
        user.password_hash = password_hash
        session.add(user)
        return store.delete_sessions(session, user_id)

    ended = await run_write(change)
    identity.forget(session_ids=frozenset(ended), user_id=user_id)
    return ended


async def set_limits(user_id: str, limits: dict[str, int | None]) -> None:
    def change(session: Session) -> None:
        user = _existing(session, user_id)
        for name in ("messages_per_minute", "concurrent_replies", "tokens_per_day"):
            setattr(user, name, limits.get(name))
        session.add(user)

    await run_write(change)
    identity.forget(user_id=user_id)


async def list_users() -> list[User]:
    return await run_read(store.list_users)


def _existing(session: Session, user_id: str) -> User:
    user = store.get_user(session, user_id) if isinstance(user_id, str) else None
    if user is None:
        raise AccountError("no_user")
    return user
