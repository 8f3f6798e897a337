"""Benchmark users are real accounts, signed in as a browser signs in.

Per server (its own DB), once per run: the first account is the admin a fresh install's
first visitor creates (`POST /_auth/setup`); the others are created in the server's DB
with the app's own store (one argon2 hash of the shared password, made once: hashing
600 passwords would take the load generator a minute). Every account then signs in
through `POST /_auth/signin` (the server verifies the password with argon2 and sets the
HttpOnly `ai_chat_session` cookie in its 303), and its tabs send that cookie with the
Socket.IO handshake. Accounts are reused by every measurement on that server: user i of
any scenario is account i, and conversations seeded for user i are owned by account i.

The naive baseline has no accounts: its users are `NO_ACCOUNT` (the single owner "local").
"""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
from sqlmodel import Session

from ai_chat.auth.identity import SESSION_COOKIE
from ai_chat.auth.passwords import hash_password
from ai_chat.config import async_url
from ai_chat.store import users as user_store
from ai_chat.store.db import run_read, run_write

PASSWORD = "benchmark-password"
SIGNIN_PARALLEL = 4  # argon2 verifies run in the server's threads: don't queue hundreds
SIGNIN_TIMEOUT_S = 60.0


@dataclasses.dataclass(frozen=True)
class Account:
    username: str
    user_id: str  # the owner of the conversations seeded for it
    cookie: str  # the Cookie header its tabs' handshakes carry ("": no accounts)


NO_ACCOUNT = Account("local", user_store.LEGACY_OWNER, "")


class SignInFailed(RuntimeError):
    pass


class AccountPool:
    """The accounts of one server, created and signed in on first use, in order."""

    def __init__(self, db_url: str, port: int, *, enabled: bool = True) -> None:
        self.db_url, self.port, self.enabled = db_url, port, enabled
        self.accounts: list[Account] = []
        self.signin_s = 0.0  # wall time spent signing in (outside every measurement)
        self._lock: asyncio.Lock | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def take(self, count: int) -> list[Account]:
        """Accounts 0..count-1 (the naive app: `count` times its single owner)."""
        if not self.enabled:
            return [NO_ACCOUNT] * count
        if self._lock is None:  # made in the loop that uses it (one loop per configuration)
            self._lock = asyncio.Lock()
        async with self._lock:
            if len(self.accounts) < count:
                started = asyncio.get_running_loop().time()
                self.accounts += await self._add(len(self.accounts), count)
                self.signin_s += asyncio.get_running_loop().time() - started
        return self.accounts[:count]

    async def _add(self, first: int, end: int) -> list[Account]:
        url = async_url(self.db_url)
        async with httpx.AsyncClient(
            base_url=self.origin, timeout=SIGNIN_TIMEOUT_S, follow_redirects=False
        ) as http:
            names = [f"bench{i:04d}" for i in range(first, end)]
            others = names
            if first == 0 and not await run_read(user_store.count_users, url=url):
                # a fresh install: its first visitor creates the admin
                await self._post(http, "/_auth/setup", names[0])
                others = names[1:]
            if others:
                password_hash = await hash_password(PASSWORD)
                await run_write(_create_users, others, password_hash, url=url)
            gate = asyncio.Semaphore(SIGNIN_PARALLEL)

            async def sign_in(name: str) -> str:
                async with gate:
                    return await self._post(http, "/_auth/signin", name)

            # The admin signs in again too: every account's tabs use a sign-in's cookie.
            cookies = await asyncio.gather(*(sign_in(name) for name in names))
        ids = await run_read(_user_ids, names, url=url)
        return [Account(n, ids[n], c) for n, c in zip(names, cookies, strict=True)]

    async def _post(self, http: httpx.AsyncClient, path: str, username: str) -> str:
        """A form post as the sign-in page sends it; the session cookie it sets."""
        response = await http.post(
            path,
            data={"username": username, "password": PASSWORD},
            headers={"Origin": self.origin},
        )
        token = response.cookies.get(SESSION_COOKIE)
        if response.status_code != 303 or not token:
            where = response.headers.get("location", "")
            raise SignInFailed(f"{path} as {username}: HTTP {response.status_code} → {where}")
        return f"{SESSION_COOKIE}={token}"


def _create_users(session: Session, names: list[str], password_hash: str) -> None:
    for name in names:
        if user_store.find_user(session, name) is None:  # else made by an earlier run
            user_store.create_user(session, name, password_hash)


def _user_ids(session: Session, names: list[str]) -> dict[str, str]:
    found = {}
    for name in names:
        user = user_store.find_user(session, name)
        assert user is not None, name
        found[name] = user.id
    return found
