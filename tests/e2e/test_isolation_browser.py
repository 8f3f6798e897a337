"""Two users in two browser contexts: B can't list, find, open or export A's conversation,
and no WebSocket frame of either session carries the other's text, a password hash, a
session token, the API key or the database URL.

Forged events (rename, delete, settings, regenerate, edit, retry, continue, stop of A's ids)
are covered at the state level, where any payload can be sent: tests/state/test_isolation.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from ai_chat.config import SIMULATOR_API_KEY
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

NOT_FOUND = "That conversation does not exist."


class Session:
    """A signed-in browser context whose every WebSocket frame (both ways) is recorded."""

    def __init__(self, browser: Any, app: ServedApp, account: Account) -> None:
        self.account = account
        self.frames: list[str] = []
        self.sockets = 0
        self.context: BrowserContext = browser.new_context(
            viewport={"width": 1280, "height": 800}, accept_downloads=True
        )
        self.context.set_default_timeout(15_000)
        add_session_cookie(self.context, app, account.token)
        self.page: Page = self.context.new_page()
        self.page.on("websocket", self._watch)

    def _watch(self, ws: Any) -> None:
        self.sockets += 1
        for event in ("framereceived", "framesent"):
            ws.on(event, lambda payload: self.frames.append(_text(payload)))

    def seen(self) -> str:
        return "\n".join(self.frames)


def _text(payload: Any) -> str:
    if isinstance(payload, bytes | bytearray):
        return payload.decode("utf-8", errors="replace")
    return str(payload)


@pytest.fixture
def two_users(browser: Any, served_app: ServedApp, accounts: Accounts) -> Iterator[tuple]:
    sessions = [Session(browser, served_app, accounts.new_user(n)) for n in ("alice", "bob")]
    try:
        yield tuple(sessions)
    finally:
        for session in sessions:
            session.context.close()


def _sidebar(page: Page):
    return page.get_by_role("navigation", name="Conversations", exact=True)


def _search(page: Page, query: str) -> None:
    _sidebar(page).get_by_role("searchbox", name="Search conversations", exact=True).fill(query)


def _chat(page: Page, text: str) -> None:
    count = page.locator(ASSISTANT).count()
    send_with_enter(page, text)
    expect(page.locator(ASSISTANT)).to_have_count(count + 1, timeout=REPLY_TIMEOUT_MS)


def test_two_users_see_only_their_own_and_no_frame_leaks(
    two_users: tuple[Session, Session], served_app: ServedApp, accounts: Accounts
):
    alice, bob = two_users
    word = uuid.uuid4().hex[:10]
    a_secret = f"Alice-secret {word} zebra-{uuid.uuid4().hex[:6]}"
    a_prompt = f"Alice's system prompt: keep {uuid.uuid4().hex[:10]} hidden."
    b_secret = f"Bob-secret {uuid.uuid4().hex[:10]}"

    # A: a system prompt in the settings, then the secret, echoed back by the simulator.
    a = alice.page
    open_chat(a, served_app)
    a.get_by_role("button", name="Conversation settings", exact=True).click()
    dialog = a.get_by_role("dialog", name="Conversation settings", exact=True)
    dialog.get_by_role("textbox", name="System prompt", exact=True).fill(a_prompt)
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_have_count(0)
    _chat(a, f"{a_secret} [[sim echo=1 ttft=0 tps=500]]")
    expect(a.locator(ASSISTANT).last).to_contain_text(a_secret)
    a_cid = conversation_id(a)

    # B: its own conversation (the positive signal that B's list has loaded).
    b = bob.page
    open_chat(b, served_app)
    _chat(b, f"{b_secret} [[sim echo=1 ttft=0 tps=500]]")
    b_cid = conversation_id(b)
    nav = _sidebar(b)
    expect(nav.locator(".conv-item")).to_have_count(1)
    expect(nav.get_by_role("link", name=re.compile("^Bob-secret"))).to_be_visible()
    b.reload()
    expect(nav.get_by_role("link", name=re.compile("^Bob-secret"))).to_be_visible()
    expect(nav.locator(".conv-item")).to_have_count(1)  # B's only: not A's

    # Search: B's own word finds B's chat; A's word (a part of A's text) finds nothing.
    _search(b, b_secret.split()[1])
    expect(nav.locator(".conv-item")).to_have_count(1)
    _search(b, word)
    expect(nav.locator(".conv-item")).to_have_count(0)
    _search(b, "")
    expect(nav.locator(".conv-item")).to_have_count(1)

    # Open: A's id answers exactly as a random one.
    for cid in (a_cid, uuid.uuid4().hex):
        b.goto(served_app.url(f"/c/{cid}"))
        expect(b.get_by_text(NOT_FOUND)).to_be_visible()
        expect(b).to_have_url(served_app.url("/"))
        expect(b.locator(".bubble")).to_have_count(0)
        expect(b.get_by_text(a_secret)).to_have_count(0)

    # Export by the UI after trying A's id: there is nothing to export (a new chat).
    b.goto(served_app.url(f"/c/{a_cid}"))
    expect(b.get_by_text(NOT_FOUND)).to_be_visible()
    expect(b).to_have_url(served_app.url("/"))
    expect(b.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    expect(b.get_by_role("heading", name="New chat", exact=True)).to_be_visible()
    expect(b.get_by_role("button", name="Export conversation", exact=True)).to_have_count(0)

    # B's own conversation still exports (the control), and holds only B's text.
    b.goto(served_app.url(f"/c/{b_cid}"))
    expect(b.locator(ASSISTANT)).to_have_count(1)
    b.get_by_role("button", name="Export conversation", exact=True).click()
    with b.expect_download() as download:
        b.get_by_role("menuitem", name="Export as JSON", exact=True).click()
    exported = open(download.value.path(), encoding="utf-8").read()
    assert b_secret in exported and a_secret not in exported and a_prompt not in exported

    # A reopens its conversation: all there (A's frames carry A's own text, as they should).
    a.reload()
    expect(a.locator(ASSISTANT).last).to_contain_text(a_secret)

    # The frame scan, over both sessions from their first frame.
    assert alice.sockets and bob.sockets and alice.frames and bob.frames
    a_seen, b_seen = alice.seen(), bob.seen()
    assert a_secret in a_seen and b_secret in b_seen  # the recording works
    leaks = {
        "A's text": a_secret,
        "A's system prompt": a_prompt,
    }
    for name, value in leaks.items():
        assert value not in b_seen, f"{name} reached user B's socket"
    assert b_secret not in a_seen, "B's text reached user A's socket"
    never = {
        "a password hash": "$argon2",
        "A's session token": alice.account.token,
        "B's session token": bob.account.token,
        "the admin's session token": accounts.admin.token,
        "the simulator API key": SIMULATOR_API_KEY,
        "an API key": "sk-ant-",
        "the served app's API key": "sk-e2e-simulator",
        "the DB URL": served_app.db_url,
        "the DB file": served_app.db_url.removeprefix("sqlite:///"),
    }
    for who, seen in (("A", a_seen), ("B", b_seen)):
        for name, value in never.items():
            assert value not in seen, f"{name} appeared in user {who}'s WebSocket frames"
