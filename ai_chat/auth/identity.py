"""A request's user, from the session cookie (or the trusted proxy's header).

Resolved on every event, from a small per-process cache: a hit costs a dict lookup; a miss
(at most every few seconds per session) one indexed read. Ending a session drops it from
this process's cache at once and from other workers' within `CACHE_S`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import timedelta

from sqlmodel import Session

from ai_chat.config import get_settings
from ai_chat.store import users as store
from ai_chat.store.columns import as_utc, utcnow
from ai_chat.store.db import run_read, run_write

log = logging.getLogger(__name__)
SESSION_COOKIE = "ai_chat_session"
# Set only by the ASGI guard (asgi.py) from a trusted proxy's header; any copy a browser
# sends is removed before the app sees it.
PROXY_COOKIE = "ai_chat_proxy_user"
CACHE_S = 3.0
STALE_ON_ERROR_S = 300.0
RENEW_AFTER = timedelta(hours=1)  # a used session's expiry is pushed back at most this often
_CACHE_MAX = 50_000


@dataclasses.dataclass(frozen=True)
class Identity:
    user_id: str
    username: str
    is_admin: bool = False
    session_id: str = ""  # "" when there is no sign-in session (proxy and none modes)
    # Per-user limit overrides (None: the server default), read by ai_chat.limits.
    messages_per_minute: int | None = None
    concurrent_replies: int | None = None
    tokens_per_day: int | None = None

    @classmethod
    def of(cls, user: store.User, session_id: str = "") -> Identity:
        return cls(
            user_id=user.id,
            username=user.username,
            is_admin=user.is_admin,
            session_id=session_id,
            messages_per_minute=user.messages_per_minute,
            concurrent_replies=user.concurrent_replies,
            tokens_per_day=user.tokens_per_day,
        )


# AI_CHAT_AUTH=none: one person on one machine, the single-user era's owner.
LOCAL = Identity(user_id=store.LEGACY_OWNER, username="you")

_cache: dict[str, tuple[float, Identity | None]] = {}


def cookie_value(header: str, name: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip().strip('"')
    return ""


def session_lifetime() -> timedelta:
    return timedelta(days=get_settings().session_idle_days)


async def resolve(cookie_header: str) -> Identity | None:
    """The signed-in user for this Cookie header, or None."""
    mode = get_settings().auth_mode
    if mode == "none":
        return LOCAL
    name = PROXY_COOKIE if mode == "proxy" else SESSION_COOKIE
    key = cookie_value(cookie_header, name)
    if not key or len(key) > 256:
        return None
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_S:
        return hit[1]
    try:
        identity = await (_proxy_user(key) if mode == "proxy" else _session_user(key))
    except Exception:
        # The database is down: a user seen lately stays signed in meanwhile (a sign-out
        # needs the database too); anyone else waits for it.
        if hit is not None and hit[1] is not None and now - hit[0] < STALE_ON_ERROR_S:
            log.warning("sign-in check failed; using this session's last check", exc_info=True)
            return hit[1]
        raise
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[key] = (now, identity)
    return identity


async def _session_user(token: str) -> Identity | None:
    found = await run_read(store.session_user, token)
    if found is None:
        return None
    auth, user = found
    if utcnow() - as_utc(auth.last_used_at) > RENEW_AFTER:
        await run_write(store.renew_session, auth.id, session_lifetime())
    return Identity.of(user, auth.id)


async def _proxy_user(quoted_name: str) -> Identity | None:
    from urllib.parse import unquote

    name = unquote(quoted_name)
    user = await run_write(_proxy_user_sync, name)
    return Identity.of(user) if user is not None else None


def _proxy_user_sync(session: Session, name: str) -> store.User | None:
    """Users of proxy mode are created on first sight; a disabled one stays out."""
    user = store.find_user(session, name)
    if user is None:
        user = store.create_user(session, name, "")
    return user if user.status == store.UserStatus.ACTIVE.value else None


def forget(*, session_ids: frozenset[str] = frozenset(), user_id: str = "") -> None:
    """Drop cached identities of these sessions or this user (this process)."""
    for key, (_, identity) in list(_cache.items()):
        if identity is not None and (
            identity.session_id in session_ids or identity.user_id == user_id
        ):
            _cache.pop(key, None)


def clear_cache() -> None:
    _cache.clear()
