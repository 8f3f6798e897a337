"""A person's view: type, watch it stream, stop, reload — in Chromium against the served app."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS

INTRO = "This reply comes from the ai_chat Claude simulator"


def _ready(page: Page, path: str = "/") -> None:
    page.goto(path)
    expect(page.get_by_role("button", name="Send")).to_be_enabled(timeout=30_000)


def _send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def _records(base: str, tag: str) -> list[dict]:
    with urllib.request.urlopen(f"{base}/_sim/_records?tag={tag}") as response:
        return json.load(response)


def _assistant(page: Page, status: str):
    return page.locator(f'.bubble[data-role="assistant"][data-status="{status}"]')


def test_a_reply_streams_then_completes_and_gets_a_url(page: Page):
    _ready(page)
    expect(page.locator("#simulator-badge")).to_be_visible()
    _send(page, "Hello from the browser [[sim tokens=120 tps=60 ttft=0.3]]")
    expect(page.locator('.bubble[data-role="user"]')).to_have_count(1)
    live = page.locator("#live-reply")
    expect(live).to_be_visible()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(_assistant(page, "complete")).to_have_count(1, timeout=15_000)
    expect(_assistant(page, "complete")).to_contain_text(INTRO)
    expect(live).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/c/[0-9a-f]{32}$"))
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_blank_input_does_nothing_and_shift_enter_adds_a_line(page: Page):
    _ready(page)
    box = page.get_by_role("textbox", name="Message")
    box.fill("   ")
    box.press("Enter")
    page.get_by_role("button", name="Send").click()
    box.fill("line one")
    box.press("Shift+Enter")
    box.type("line two")
    expect(box).to_have_value("line one\nline two")
    expect(page.locator(".bubble")).to_have_count(0)


def test_stop_keeps_the_partial_reply_closes_upstream_and_survives_reload(
    page: Page, served_app: str
):
    _ready(page)
    tag = uuid.uuid4().hex[:10]
    _send(page, f"Tell me everything [[sim tokens=3000 tps=25 ttft=0 tag={tag}]]")
    live = page.locator("#live-reply")
    page.wait_for_function(
        "document.querySelector('#live-reply')?.innerText.length > 150", timeout=15_000
    )
    page.screenshot(path=str(ARTIFACTS / "mid-stream.png"))
    expect(live).to_contain_text("Claude")  # the elapsed/token line is there too

    page.get_by_role("button", name="Stop").click()
    stopped = _assistant(page, "cancelled")
    expect(stopped).to_have_count(1, timeout=10_000)
    expect(stopped).to_contain_text("Stopped")
    partial = stopped.locator(".message-body").inner_text()
    assert INTRO[:30] in partial
    page.screenshot(path=str(ARTIFACTS / "after-stop.png"))

    records = _records(served_app, tag)
    assert len(records) == 1 and records[0]["disconnected_at"], records
    assert records[0]["outcome"] == "disconnected"
    sent = records[0]["tokens_sent"]
    assert 0 < sent < 3000

    # the text stopped growing: same text after the server had time to send more
    page.wait_for_timeout(400)  # 10 more tokens would have arrived at 25 tok/s
    assert stopped.locator(".message-body").inner_text() == partial

    page.reload()
    expect(_assistant(page, "cancelled")).to_have_count(1, timeout=15_000)
    assert _assistant(page, "cancelled").locator(".message-body").inner_text() == partial
    page.screenshot(path=str(ARTIFACTS / "after-reload.png"))


def test_escape_stops_a_streaming_reply(page: Page):
    _ready(page)
    _send(page, "Think slowly [[sim tokens=50 ttft=30]]")
    expect(page.locator("#live-reply")).to_contain_text("thinking", timeout=10_000)
    page.keyboard.press("Escape")
    expect(_assistant(page, "cancelled")).to_have_count(1, timeout=10_000)


def test_failure_is_shown_and_the_next_message_works(page: Page):
    _ready(page)
    _send(page, "Overload me [[sim error=529 retry_after=30]]")
    failed = _assistant(page, "failed")
    expect(failed).to_have_count(1, timeout=10_000)
    expect(failed.get_by_role("alert")).to_contain_text("overloaded")
    _send(page, "Now work [[sim tokens=20 tps=200 ttft=0]]")
    expect(_assistant(page, "complete")).to_have_count(1, timeout=10_000)


def test_double_send_makes_one_turn(page: Page):
    _ready(page)
    box = page.get_by_role("textbox", name="Message")
    box.fill("Only once [[sim tokens=30 tps=100 ttft=0.5]]")
    page.get_by_role("button", name="Send").dblclick()
    expect(_assistant(page, "complete")).to_have_count(1, timeout=10_000)
    expect(page.locator('.bubble[data-role="user"]')).to_have_count(1)
    page.reload()
    expect(page.locator('.bubble[data-role="user"]')).to_have_count(1, timeout=15_000)


def test_new_chat_and_back_restore_conversations(page: Page):
    _ready(page)
    _send(page, "Remember this [[sim tokens=20 tps=200 ttft=0]]")
    expect(_assistant(page, "complete")).to_have_count(1, timeout=10_000)
    expect(page).to_have_url(re.compile(r"/c/[0-9a-f]{32}$"))
    first_url = page.url
    page.get_by_role("button", name="New chat").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".bubble")).to_have_count(0)
    page.go_back()
    expect(page).to_have_url(first_url)
    expect(page.locator('.bubble[data-role="user"]')).to_contain_text("Remember this")
    page.goto(first_url)
    expect(_assistant(page, "complete")).to_have_count(1, timeout=15_000)
