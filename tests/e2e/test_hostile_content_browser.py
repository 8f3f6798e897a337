"""Hostile content in a real browser (issue 20, "Hostile content and input"):
- a reply nested too deeply for the Markdown renderer (3,000 ">": "Maximum call stack size
  exceeded" before) opens, as plain text with a note, and exports;
- a message or system prompt over its limit is refused in the page, before it reaches the
  socket's 1,000,000-byte frame limit, with a message; the text stays in the box.
Model output is injected exactly with the simulator's ``[[sim echo=1]]``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.accounts import Account, add_session_cookie
from tests.e2e.chat_page import (
    ASSISTANT,
    USER,
    button,
    composer,
    conversation_id,
    open_chat,
    send_with_enter,
    stored_messages,
)
from tests.e2e.conftest import ARTIFACTS, ServedApp

ECHO = "[[sim echo=1 tps=4000 ttft=0 chunk=64]]"
FAST = "[[sim tokens=8 tps=2000 ttft=0]]"
DEEP = ">" * 3000 + " the bottom of the quotes"
NOTE = "Shown as plain text: too deeply nested to format."
REPLY_TIMEOUT_MS = 30_000


@pytest.fixture
def context(browser: Any, served_app: ServedApp, user: Account) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    add_session_cookie(context, served_app, user.token)
    yield context
    context.close()


def _watched(context: BrowserContext) -> tuple[Page, list[str]]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def _send_deep_reply(context: BrowserContext, app: ServedApp) -> tuple[Page, list[str], str]:
    page, errors = _watched(context)
    open_chat(page, app)
    send_with_enter(page, f"{DEEP} {ECHO}")
    cid = conversation_id(page)

    deadline = time.monotonic() + REPLY_TIMEOUT_MS / 1000
    while True:  # polled: this tab may have broken while the reply streamed (not tested here)
        rows = stored_messages(app, cid)
        if len(rows) == 2 and rows[1]["status"] == "complete":
            return page, errors, cid
        assert time.monotonic() < deadline, f"the reply was not stored: {rows}"
        time.sleep(0.05)


def _download(page: Page, item: str) -> str:
    page.get_by_role("button", name="Export conversation", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("menuitem", name=item, exact=True).click()
    with open(download.value.path(), encoding="utf-8") as file:
        return file.read()


def test_a_conversation_with_a_too_deeply_nested_reply_opens_and_exports(
    context: BrowserContext, served_app: ServedApp
):
    _, _, cid = _send_deep_reply(context, served_app)
    # Opened again (a new tab, from the database): before, every open failed with
    # "Maximum call stack size exceeded" and the conversation could not even be exported.
    page, errors = _watched(context)
    page.goto(served_app.url(f"/c/{cid}"))
    reply = page.locator(f"{ASSISTANT} .message-body").last
    expect(reply).to_have_text(DEEP, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(ASSISTANT).get_by_role("note")).to_have_text(NOTE)
    expect(page.locator(f"{USER} .message-body")).to_have_text(f"{DEEP} {ECHO}")
    page.locator(ASSISTANT).last.screenshot(path=str(ARTIFACTS / "too-deep.png"))

    markdown = _download(page, "Export as Markdown")
    assert DEEP in markdown
    exported = json.loads(_download(page, "Export as JSON"))
    assert [m["content"] for m in exported["messages"]][-1] == DEEP
    # Still a working chat: the next message streams and renders as Markdown again.
    send_with_enter(page, f"**after** {FAST}")
    expect(page.locator(f"{ASSISTANT}[data-status=complete]")).to_have_count(
        2, timeout=REPLY_TIMEOUT_MS
    )
    expect(page.locator(f"{USER} .message-body").last).to_have_text(f"**after** {FAST}")
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_a_too_deeply_nested_reply_streams_as_plain_text(
    context: BrowserContext, served_app: ServedApp
):
    page, errors, _ = _send_deep_reply(context, served_app)
    expect(page.locator(f"{ASSISTANT} .message-body").last).to_have_text(
        DEEP, timeout=REPLY_TIMEOUT_MS
    )
    assert errors == [], f"JavaScript errors while it streamed: {errors}"


def _value_length(page: Page, selector: str) -> int:
    return page.evaluate("(s) => document.querySelector(s).value.length", selector)


def test_an_over_limit_message_is_refused_in_the_page_and_stays_in_the_box(
    context: BrowserContext, served_app: ServedApp
):
    page, errors = _watched(context)
    open_chat(page, served_app)
    box, alert = composer(page), page.locator("#message-error")
    expect(alert).to_have_attribute("role", "alert")
    box.fill("x" * 50_001)
    box.press("Enter")
    expect(alert).to_have_text(
        "Your message is 50,001 characters; the limit is 50,000. "
        "Shorten it and send again (your text is still in the box)."
    )
    expect(box).to_have_attribute("aria-invalid", "true")
    assert _value_length(page, "#message") == 50_001
    # A 1 MB paste, over the socket's frame limit: refused as well, the socket untouched.
    box.fill("y" * 1_000_000)
    button(page, "Send").click()
    expect(alert).to_contain_text("1,000,000 characters; the limit is 50,000")
    assert _value_length(page, "#message") == 1_000_000
    expect(button(page, "Send")).to_be_enabled()
    expect(page.get_by_text("Connecting to the server…")).to_have_count(0)
    # Shortened to the limit, it goes (so the refused ones were never sent).
    box.fill("z" * (50_000 - len(FAST) - 1) + " " + FAST)
    expect(alert).to_have_text("")  # the message goes as soon as the text fits
    box.press("Enter")
    expect(page.locator(f"{ASSISTANT}[data-status=complete]")).to_have_count(
        1, timeout=REPLY_TIMEOUT_MS
    )
    expect(page.locator(USER)).to_have_count(1)
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_an_over_limit_system_prompt_is_refused_in_the_dialog(
    context: BrowserContext, served_app: ServedApp
):
    page, errors = _watched(context)
    open_chat(page, served_app)
    page.get_by_role("button", name="Conversation settings", exact=True).click()
    dialog = page.get_by_role("dialog", name="Conversation settings", exact=True)
    prompt = dialog.get_by_role("textbox", name="System prompt", exact=True)
    prompt.fill("p" * 20_001)
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog.locator("#system-prompt-error")).to_have_text(
        "The system prompt is 20,001 characters; the limit is 20,000. "
        "Shorten it and save again (your text is still in the box)."
    )
    expect(dialog).to_be_visible()
    assert prompt.input_value() == "p" * 20_001
    prompt.fill("p" * 20_000)
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_have_count(0)
    expect(
        page.get_by_text("Settings saved for this conversation and your new chats.")
    ).to_be_visible()
    assert errors == [], f"JavaScript errors on the page: {errors}"
