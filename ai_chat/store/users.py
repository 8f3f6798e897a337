"""Accounts, their sign-in sessions and invite links (tables and queries).

Tokens (session cookies, invite links) are stored only as SHA-256 hashes: a copy of the
database can't be used to sign in. Passwords are hashed by `ai_chat.auth.passwords`.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from ai_chat.store.columns import TIMESTAMP, as_utc, new_id, utcnow

# Conversations of the single-user days belong to the first admin (claimed at setup).
LEGACY_OWNER = "local"


class UserStatus(str, enum.Enum):
    ACTIVE = "active"
    PENDING = "pending"  # signed up in "approval" mode: an admin must approve
    DISABLED = "disabled"


class User(SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is reserved on PostgreSQL

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    username: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    password_hash: str = Field(default="", max_length=255)  # "" : proxy users, no password
    is_admin: bool = False
    status: str = Field(default=UserStatus.ACTIVE.value, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    # Per-user limits; None = the server default (AI_CHAT_LIMIT_*), 0 = unlimited.
    messages_per_minute: int | None = None
    concurrent_replies: int | None = None
    tokens_per_day: int | None = None
    # The user's last choices, the defaults of their new chats; None = the server default.
    default_model: str | None = Field(default=None, max_length=64)
    default_max_output_tokens: int | None = None
    default_thinking_budget: int | None = None  # 0 = thinking off


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="app_user.id", index=True, max_length=32)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    last_used_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    expires_at: datetime = Field(sa_type=TIMESTAMP)


class Invite(SQLModel, table=True):
    __tablename__ = "invite"

    token_hash: str = Field(primary_key=True, max_length=64)
    created_by: str = Field(foreign_key="app_user.id", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    expires_at: datetime = Field(sa_type=TIMESTAMP)
    used_by: str | None = Field(default=None, max_length=32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_username(username: str) -> str:
    return username.strip().lower()


def count_users(session: Session) -> int:
    return session.exec(select(sa.func.count()).select_from(User)).one()


def get_user(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def find_user(session: Session, username: str) -> User | None:
    name = normalize_username(username)
    return session.exec(select(User).where(User.username == name)).first()


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.created_at))).all())


def create_user(
    session: Session,
    username: str,
    password_hash: str,
    *,
    is_admin: bool = False,
    status: UserStatus = UserStatus.ACTIVE,
) -> User:
    user = User(
        username=normalize_username(username),
        password_hash=password_hash,
        is_admin=is_admin,
        status=status.value,
    )
    session.add(user)
    session.flush()
    return user


def add_session(session: Session, user_id: str, token: str, lifetime: timedelta) -> AuthSession:
    now = utcnow()
    row = AuthSession(
        user_id=user_id, token_hash=token_hash(token), last_used_at=now, expires_at=now + lifetime
    )
    session.add(row)
    session.flush()
    return row


def session_user(session: Session, token: str) -> tuple[AuthSession, User] | None:
    """The live session for this token and its (active) user, or None."""
    row = session.exec(
        select(AuthSession, User)
        .join(User, col(User.id) == col(AuthSession.user_id))
        .where(AuthSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    auth, user = row
    if as_utc(auth.expires_at) <= utcnow() or user.status != UserStatus.ACTIVE.value:
        return None
    return auth, user


def renew_session(session: Session, session_id: str, lifetime: timedelta) -> None:
    now = utcnow()
    session.exec(
        sa.update(AuthSession)
        .where(col(AuthSession.id) == session_id)
        .values(last_used_at=now, expires_at=now + lifetime)
    )


def delete_sessions(
    session: Session, user_id: str, except_id: str = "", only_id: str = ""
) -> list[str]:
    """End a user's sessions (one, or all but one); returns the ids ended."""
    query = select(AuthSession.id).where(AuthSession.user_id == user_id)
    if only_id:
        query = query.where(AuthSession.id == only_id)
    if except_id:
        query = query.where(AuthSession.id != except_id)
    ids = list(session.exec(query).all())
    if ids:
        session.exec(sa.delete(AuthSession).where(col(AuthSession.id).in_(ids)))
    return ids


def add_invite(session: Session, created_by: str, token: str, lifetime: timedelta) -> Invite:
    invite = Invite(
        token_hash=token_hash(token), created_by=created_by, expires_at=utcnow() + lifetime
    )
    session.add(invite)
    session.flush()
    return invite


def usable_invite(session: Session, token: str) -> Invite | None:
    invite = session.get(Invite, token_hash(token))
    if invite is None or invite.used_by:
        return None
    return invite if as_utc(invite.expires_at) > utcnow() else None


def get_defaults(session: Session, user_id: str) -> dict[str, object]:
    """The user's last choices as a new conversation's settings (`model`,
    `max_output_tokens`, `thinking_budget`: None = the server default / thinking off); {}
    for a user with no row (AI_CHAT_AUTH=none's local user)."""
    user = session.get(User, user_id)
    if user is None:
        return {}
    return {
        "model": user.default_model,
        "max_output_tokens": user.default_max_output_tokens,
        "thinking_budget": user.default_thinking_budget or None,
    }


def save_defaults(session: Session, user_id: str, values: dict[str, object]) -> bool:
    """Store the settings a user just chose (validated by the caller) as their defaults:
    only the keys given; thinking off is stored as 0. False when the user has no row."""
    user = session.get(User, user_id)
    if user is None:
        return False
    if "model" in values:
        model = values["model"]
        user.default_model = model if isinstance(model, str) and model else None
    if "max_output_tokens" in values:
        tokens = values["max_output_tokens"]
        user.default_max_output_tokens = tokens if isinstance(tokens, int) else None
    if "thinking_budget" in values:
        budget = values["thinking_budget"]
        user.default_thinking_budget = budget if isinstance(budget, int) else 0
    session.add(user)
    return True
