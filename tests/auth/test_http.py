"""The /_auth endpoints over HTTP (ASGI in process): cookie, origin check, throttling."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from ai_chat.auth import http, identity
from ai_chat.generation import runtime

APP_ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
async def client(accounts_db, monkeypatch):
    monkeypatch.setenv("AI_CHAT_LIMIT_SIGNIN_PER_ACCOUNT", "3")
    runtime.reset()
    transport = httpx.ASGITransport(app=Starlette(routes=http.routes()))
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as c:
        yield c
    await runtime.get_service().quotas.close()


def form(username: str, password: str) -> dict:
    return {"username": username, "password": password}


async def test_setup_then_sign_in_sets_an_httponly_cookie(client):
    response = await client.post(
        "/_auth/setup", data=form("admin", "password123"), headers={"Origin": APP_ORIGIN}
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(identity.SESSION_COOKIE + "=")
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    again = await client.post("/_auth/setup", data=form("mallory", "password123"))
    assert again.headers["location"] == "/signin?error=has_admin"
    signed_in = await client.post("/_auth/signin", data=form("admin", "password123"))
    token = signed_in.cookies[identity.SESSION_COOKIE]
    assert await identity.resolve(f"{identity.SESSION_COOKIE}={token}") is not None


async def test_a_post_from_another_origin_is_refused(client):
    response = await client.post(
        "/_auth/setup", data=form("admin", "password123"), headers={"Origin": "http://evil.example"}
    )
    assert response.headers["location"] == "/signin?error=origin"
    assert "set-cookie" not in response.headers
    from ai_chat.auth import accounts

    assert await accounts.setup_needed()


async def test_failed_sign_ins_are_throttled_per_account(client):
    await client.post("/_auth/setup", data=form("admin", "password123"))
    for _ in range(3):
        wrong = await client.post("/_auth/signin", data=form("admin", "wrong password"))
        assert wrong.headers["location"] == "/signin?error=credentials"
    blocked = await client.post("/_auth/signin", data=form("admin", "password123"))
    assert blocked.headers["location"].startswith("/signin?error=throttled&wait=")
    assert "set-cookie" not in blocked.headers


async def test_sign_out_ends_the_session_and_clears_the_cookie(client):
    response = await client.post("/_auth/setup", data=form("admin", "password123"))
    token = response.cookies[identity.SESSION_COOKIE]
    out = await client.post("/_auth/signout")
    assert out.headers["location"] == "/signin?notice=signed_out"
    assert (
        'ai_chat_session=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )
    assert await identity.resolve(f"{identity.SESSION_COOKIE}={token}") is None
