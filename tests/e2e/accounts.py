"""Accounts for the browser tests: the admin made through the real setup form, users, and
signed-in browser contexts.

The served app requires sign-in (AI_CHAT_AUTH=password, the default). `Accounts.admin` is
created once through POST /_auth/setup, as the first visitor of a fresh install does. There
is no HTTP endpoint that creates other users (admins do it on /admin), so `Accounts.new_user`
writes the account into the served app's database (an argon2 hash, like
`ai_chat.auth.accounts.create_user`) and then signs in through the real POST /_auth/signin:
the session token is the one the app's own Set-Cookie carries.
"""

from __future__ import annotations

import dataclasses
import http.client
import threading
import urllib.parse
import uuid
from http.cookies import SimpleCookie
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import Session

from ai_chat.auth.identity import SESSION_COOKIE
from ai_chat.store import users as user_store

PASSWORD = "correct horse battery staple"
_hasher = PasswordHasher()


@dataclasses.dataclass(frozen=True)
class Account:
    username: str
    password: str
    user_id: str
    token: str  # the value of the ai_chat_session cookie


@dataclasses.dataclass(frozen=True)
class FormAnswer:
    status: int
    location: str
    cookies: dict[str, Any]  # name -> http.cookies.Morsel

    def token(self) -> str:
        morsel = self.cookies.get(SESSION_COOKIE)
        return morsel.value if morsel is not None else ""


def post_form(app: Any, path: str, fields: dict[str, str], *, origin: bool = True) -> FormAnswer:
    """POST a form like the sign-in page does (the app's own Origin); the redirect is not
    followed, so its Set-Cookie is visible."""
    body = urllib.parse.urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin:
        headers["Origin"] = app.base_url
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        cookies: SimpleCookie = SimpleCookie()
        for header in response.headers.get_all("set-cookie") or []:
            cookies.load(header)
        return FormAnswer(response.status, response.headers.get("location", ""), dict(cookies))
    finally:
        conn.close()


def sign_in(app: Any, username: str, password: str) -> str:
    """A new session token through POST /_auth/signin (asserts it worked)."""
    answer = post_form(app, "/_auth/signin", {"username": username, "password": password})
    assert answer.status == 303 and answer.token(), (
        f"sign-in of {username} failed: {answer.status} {answer.location}"
    )
    morsel = answer.cookies[SESSION_COOKIE]
    assert morsel["httponly"], "the session cookie must be HttpOnly"
    return answer.token()


def add_session_cookie(context: Any, app: Any, token: str) -> None:
    """Give a Playwright context the session cookie /_auth/signin would have set."""
    context.add_cookies(
        [
            {
                "name": SESSION_COOKIE,
                "value": token,
                "domain": urllib.parse.urlsplit(app.base_url).hostname,
                "path": "/",
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


class Accounts:
    """The served app's accounts: its admin (made by the setup form) and fresh users."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        answer = post_form(app, "/_auth/setup", {"username": "admin", "password": PASSWORD})
        assert answer.status == 303 and answer.token(), (
            f"creating the admin through /_auth/setup failed: {answer.status} {answer.location}"
        )
        self.admin = Account("admin", PASSWORD, self._user_id("admin"), answer.token())

    def _engine(self) -> sa.Engine:
        return sa.create_engine(
            self.app.db_url, poolclass=sa.pool.NullPool, connect_args={"timeout": 30}
        )

    def _user_id(self, username: str) -> str:
        engine = self._engine()
        try:
            with Session(engine) as session:
                user = user_store.find_user(session, username)
                assert user is not None, username
                return user.id
        finally:
            engine.dispose()

    def create_user(self, prefix: str = "user", password: str = PASSWORD) -> tuple[str, str]:
        """A new active account in the app's DB; returns (username, user id)."""
        username = f"{prefix}-{uuid.uuid4().hex[:10]}".lower()
        password_hash = _hasher.hash(password)
        with self._lock:
            engine = self._engine()
            try:
                with Session(engine) as session:
                    user = user_store.create_user(session, username, password_hash)
                    user_id = user.id
                    session.commit()
            finally:
                engine.dispose()
        return username, user_id

    def new_user(self, prefix: str = "user") -> Account:
        """A new account, signed in through the real form endpoint."""
        username, user_id = self.create_user(prefix)
        return Account(username, PASSWORD, user_id, sign_in(self.app, username, PASSWORD))

    def new_session(self, account: Account) -> Account:
        """Another sign-in of the same account (another device)."""
        token = sign_in(self.app, account.username, account.password)
        return dataclasses.replace(account, token=token)
