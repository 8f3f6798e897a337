"""Conversations and turns as a person uses them: sidebar, regenerate, edit, copy, export,
keyboard and dark mode — in Chromium against the served app."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.accounts import Account, add_session_cookie
from tests.e2e.chat_page import open_chat, send_with_enter
from tests.e2e.conftest import ARTIFACTS, ServedApp

QUICK = "[[sim tokens=15 tps=300 ttft=0]]"


def _assistant(page: Page, status: str):
    return page.locator(f'.bubble[data-role="assistant"][data-status="{status}"]')


def _chat(page: Page, text: str) -> None:
    count = _assistant(page, "complete").count()
    send_with_enter(page, f"{text} {QUICK}")
    expect(_assistant(page, "complete")).to_have_count(count + 1, timeout=10_000)


def test_regenerate_shows_a_new_version_of_the_reply(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    _chat(page, "Regenerate me")
    first_id = _assistant(page, "complete").get_attribute("id")
    page.get_by_role("button", name="Regenerate reply", exact=True).click()
    expect(_assistant(page, "complete")).not_to_have_attribute("id", first_id, timeout=10_000)
    expect(_assistant(page, "complete")).to_have_count(1)
    expect(page.locator('.bubble[data-role="user"]')).to_have_count(1)
    expect(_assistant(page, "complete").locator(".version-label")).to_have_text("2 / 2")


def test_edit_in_place_shows_the_edited_branch(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    _chat(page, "Original question")
    _chat(page, "Follow-up")
    page.get_by_role("button", name="Edit message", exact=True).first.click()
    box = page.get_by_role("textbox", name="Edit your message", exact=True)
    expect(box).to_have_value(re.compile("^Original question"))
    box.fill(f"Edited question {QUICK}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator('.bubble[data-role="user"]')).to_have_count(1, timeout=10_000)
    expect(page.locator('.bubble[data-role="user"]')).to_contain_text("Edited question")
    expect(_assistant(page, "complete")).to_have_count(1, timeout=10_000)
    page.reload()
    expect(page.locator('.bubble[data-role="user"]')).to_have_count(1, timeout=15_000)
    expect(page.locator('.bubble[data-role="user"] .version-label')).to_have_text("2 / 2")


def test_sidebar_rename_search_and_delete(page: Page, served_app: ServedApp):
    word = uuid.uuid4().hex[:8]
    open_chat(page, served_app)
    _chat(page, f"Keep {word}")
    page.get_by_role("button", name="New chat", exact=True).click()
    expect(page).to_have_url(re.compile(r"/$"))
    _chat(page, f"Doomed {word}")
    doomed_url = page.url

    nav = page.get_by_role("navigation", name="Conversations", exact=True)
    nav.get_by_role("searchbox", name="Search conversations", exact=True).fill(word)
    expect(nav.locator(".conv-item")).to_have_count(2)
    nav.get_by_role("searchbox", name="Search conversations", exact=True).fill(f"Keep {word}")
    expect(nav.locator(".conv-item")).to_have_count(1)
    nav.get_by_role("searchbox", name="Search conversations", exact=True).fill(word)
    expect(nav.locator(".conv-item")).to_have_count(2)

    nav.get_by_role("button", name=re.compile(f"^Actions for Doomed {word}")).click()
    page.get_by_role("menuitem", name="Rename", exact=True).click()
    title_box = page.get_by_role("textbox", name="New title", exact=True)
    title_box.fill(f"Renamed {word}")
    title_box.press("Enter")
    expect(nav.get_by_role("link", name=f"Renamed {word}")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Renamed {word}")
    page.screenshot(path=str(ARTIFACTS / "sidebar.png"))

    nav.get_by_role("button", name=f"Actions for Renamed {word}").click()
    page.get_by_role("menuitem", name="Delete", exact=True).click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("can't be undone")
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(nav.locator(".conv-item")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/$"))  # the open conversation was deleted
    page.goto(doomed_url)  # an absolute URL
    expect(page).to_have_url(re.compile(r"/$"), timeout=15_000)  # gone for good


def test_copy_and_export(browser, served_app: ServedApp, user: Account):
    context = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], accept_downloads=True
    )
    add_session_cookie(context, served_app, user.token)
    page = context.new_page()
    try:
        open_chat(page, served_app)
        _chat(page, "Copy me")
        page.locator('.bubble[data-role="user"]').get_by_role(
            "button", name="Copy message", exact=True
        ).click()
        assert page.evaluate("navigator.clipboard.readText()").startswith("Copy me")
        page.get_by_role("button", name="Export conversation", exact=True).click()
        with page.expect_download() as download:
            page.get_by_role("menuitem", name="Export as Markdown", exact=True).click()
        text = open(download.value.path(), encoding="utf-8").read()
        assert text.startswith("# Copy me") and "## You" in text and "## Claude" in text
    finally:
        context.close()


def test_keyboard_only(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    page.keyboard.press("Tab")  # focus starts in the message box (autofocus); keys only below
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.focus()
    page.keyboard.type("Slow thought [[sim tokens=200 ttft=30]]")
    page.keyboard.press("Enter")
    expect(page.locator("#live-reply")).to_be_visible(timeout=10_000)
    page.keyboard.press("Escape")
    expect(_assistant(page, "cancelled")).to_have_count(1, timeout=10_000)
    expect(page).to_have_url(re.compile(r"/c/"))
    page.keyboard.press("Control+Shift+O")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".bubble")).to_have_count(0)


def test_dark_mode_toggle(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    background = "getComputedStyle(document.querySelector('.chat-main')).backgroundColor"
    html_dark = "document.documentElement.classList.contains('dark')"
    before = page.evaluate(html_dark)
    page.get_by_role("button", name="Toggle dark mode", exact=True).click()
    page.wait_for_function(f"{html_dark} !== {str(before).lower()}")
    page.screenshot(path=str(ARTIFACTS / ("dark.png" if not before else "light.png")))
    assert page.evaluate(background) is not None


def test_retry_and_continue_after_a_stop(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    send_with_enter(page, "Long story [[sim tokens=2000 tps=40 ttft=0]]")
    page.wait_for_function(
        "document.querySelector('#live-reply .message-body')?.innerText.length > 40"
    )
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(_assistant(page, "cancelled")).to_have_count(1)
    expect(page.get_by_role("button", name="Retry", exact=True)).to_be_visible()
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator('.bubble[data-role="user"]').last).to_contain_text("continue where")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(_assistant(page, "cancelled")).to_have_count(2)
