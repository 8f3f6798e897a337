"""Password hashing with argon2id (argon2-cffi's maintained defaults).

Hashing takes tens of milliseconds of CPU on purpose: it runs in a thread, never on the
event loop that streams replies."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # argon2 takes any length; this bounds the work per attempt
# Verified when the account does not exist, so that timing doesn't tell which names exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class PasswordRejected(ValueError):
    """A new password we won't accept; the message says why."""


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordRejected(f"Use at least {MIN_PASSWORD_CHARS} characters for the password.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordRejected(f"Use at most {MAX_PASSWORD_CHARS} characters for the password.")


async def hash_password(password: str) -> str:
    check_new_password(password)
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    """False for a wrong password, an empty hash (no password set) or an oversized one."""
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    return await asyncio.to_thread(_verify, password_hash, password)
