"""Signing in and out in Chromium, by the accessible names anyone can script.

The served app's admin already exists (the `accounts` fixture created it through
/_auth/setup, as a fresh install's first visitor does), so these start at "Sign in".
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from ai_chat.auth.identity import SESSION_COOKIE
from tests.e2e.accounts import Account, Accounts, add_session_cookie
from tests.e2e.chat_page import (
    ASSISTANT,
    REPLY_TIMEOUT_MS,
    conversation_id,
    open_chat,
    send_with_enter,
)
from tests.e2e.conftest import ServedApp

pytestmark = pytest.mark.browser

SIGNIN = re.compile(r"/signin/?(\?.*)?$")


@pytest.fixture
def fresh(browser: Any) -> Iterator[BrowserContext]:
    """A browser that has never signed in."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _expect_signin_page(page: Page) -> None:
    expect(page).to_have_url(SIGNIN)
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_be_visible()
    expect(page.get_by_role("textbox", name="Password", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    # The page settled on the sign-in form (above): nothing of the chat is there.
    expect(page.get_by_role("textbox", name="Message")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Conversations")).to_have_count(0)


def _session_cookie(context: BrowserContext) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == SESSION_COOKIE), None)


def _sign_in(page: Page, app: ServedApp, username: str, password: str) -> None:
    page.goto(app.url("/signin"))
    page.get_by_role("textbox", name="Username", exact=True).fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_a_browser_that_never_signed_in_sees_only_the_signin_page(
    page: Page, fresh: BrowserContext, served_app: ServedApp
):
    secret = f"only-mine-{uuid.uuid4().hex[:8]}"
    open_chat(page, served_app)
    send_with_enter(page, f"{secret} [[sim echo=1 ttft=0 tps=500]]")
    expect(page.locator(ASSISTANT)).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    cid = conversation_id(page)

    stranger = fresh.new_page()
    for path in ("/", f"/c/{cid}", f"/c/{uuid.uuid4().hex}", "/admin", "/account"):
        stranger.goto(served_app.url(path))
        _expect_signin_page(stranger)
        assert secret not in stranger.content()


def test_a_wrong_password_shows_why_and_sets_no_cookie(
    fresh: BrowserContext, served_app: ServedApp, accounts: Accounts
):
    username, _ = accounts.create_user("wrong")
    page = fresh.new_page()
    _sign_in(page, served_app, username, "not the password at all")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("don't match")
    _expect_signin_page(page)
    assert _session_cookie(fresh) is None


def test_signing_in_by_the_accessible_names(
    fresh: BrowserContext, served_app: ServedApp, accounts: Accounts
):
    account = accounts.new_user("named")
    page = fresh.new_page()
    _sign_in(page, served_app, account.username, account.password)
    expect(page).to_have_url(served_app.url("/"))
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    cookie = _session_cookie(fresh)
    assert cookie is not None and cookie["httpOnly"] and cookie["path"] == "/"
    assert cookie["sameSite"] in ("Lax", "Strict")


def test_the_session_cookie_is_invisible_to_page_javascript(
    page: Page, served_app: ServedApp, user: Account
):
    open_chat(page, served_app)
    assert user.token not in page.evaluate("document.cookie")
    assert SESSION_COOKIE not in page.evaluate("document.cookie")
    storage = page.evaluate(
        """() => [localStorage, sessionStorage].flatMap(
            (s) => Object.keys(s).map((k) => k + '=' + s.getItem(k)))"""
    )
    assert storage is not None
    assert not [item for item in storage if user.token in item or SESSION_COOKIE in item]


def test_sign_out_ends_the_session_in_every_tab(
    fresh: BrowserContext, served_app: ServedApp, accounts: Accounts
):
    account = accounts.new_user("leaving")
    first = fresh.new_page()
    _sign_in(first, served_app, account.username, account.password)
    expect(first.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    second = fresh.new_page()  # the same session in a second tab
    open_chat(second, served_app)
    signed_in = _session_cookie(fresh)
    assert signed_in is not None

    first.get_by_role("button", name="Sign out", exact=True).click()
    expect(first).to_have_url(SIGNIN)
    expect(first.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    # The other tab is told within seconds, without reloading.
    expect(second.get_by_role("heading", name="You're signed out")).to_be_visible(timeout=10_000)
    assert _session_cookie(fresh) is None

    # The old token is dead server-side too: a browser still holding it is not signed in.
    other = fresh.browser.new_context()
    try:
        add_session_cookie(other, served_app, signed_in["value"])
        stale = other.new_page()
        stale.goto(served_app.url("/"))
        _expect_signin_page(stale)
    finally:
        other.close()
