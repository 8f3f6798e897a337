"""Driving the chat page in the browser tests: locators, waits on conditions, and the
simulator's and the DB's view of a turn."""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from .conftest import ServedApp

INTRO = (
    "This reply comes from the ai_chat Claude simulator, not from Claude: it is canned, "
    "deterministic text streamed at a configurable pace so the app can be tested offline."
)
CONVERSATION_URL = re.compile(r"/c/([0-9a-f]{32})$")
REPLY_TIMEOUT_MS = 30_000

USER = ".bubble[data-role=user]"
ASSISTANT = ".bubble[data-role=assistant]:not(#live-reply)"
LIVE = "#live-reply"

# Records every state the live reply goes through (status + text length), from page load on.
LIVE_LOG_SCRIPT = """
window.__liveLog = [];
new MutationObserver(() => {
  const el = document.getElementById('live-reply');
  const last = window.__liveLog[window.__liveLog.length - 1];
  const status = el ? el.getAttribute('data-status') : null;
  const body = el && el.querySelector('.message-body');
  const len = body ? body.innerText.length : 0;
  if (!last || last.status !== status || last.len !== len) {
    window.__liveLog.push({status, len});
  }
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""

# True once the element's text has not changed for `ms` milliseconds (page clock).
QUIET_SCRIPT = """
([selector, ms]) => {
  const el = document.querySelector(selector);
  const text = el ? el.innerText : null;
  const now = performance.now();
  const q = window.__quiet;
  if (!q || q.selector !== selector || q.text !== text) {
    window.__quiet = {selector, text, since: now};
    return false;
  }
  return now - q.since >= ms;
}
"""


def unique_tag(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"


def flat(text: str) -> str:
    return " ".join(text.split())


def open_chat(page: Page, app: ServedApp, path: str = "/") -> None:
    page.goto(app.url(path))
    expect(button(page, "Send")).to_be_enabled()


def button(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=name, exact=True)


def composer(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message")


def send_with_enter(page: Page, text: str) -> None:
    box = composer(page)
    box.fill(text)
    box.press("Enter")


def body(bubble: Locator) -> str:
    return bubble.locator(".message-body").inner_text()


def wait_streamed(page: Page, min_chars: int) -> None:
    page.wait_for_function(
        """(n) => {
          const el = document.querySelector('#live-reply[data-status=streaming] .message-body');
          return !!el && el.innerText.length >= n;
        }""",
        arg=min_chars,
        timeout=REPLY_TIMEOUT_MS,
    )


def wait_text_stops_growing(page: Page, selector: str, quiet_ms: int = 750) -> None:
    """No change for `quiet_ms` (15 push intervals); a still-growing text times out."""
    try:
        page.wait_for_function(QUIET_SCRIPT, arg=[selector, quiet_ms], polling=50, timeout=8_000)
    except Exception as exc:  # the timeout, as a readable failure
        raise AssertionError(f"the text of {selector} kept changing after the stop") from exc


def stored_messages(app: ServedApp, conversation_id: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(app.db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT role, content, status, error FROM message "
                    "WHERE conversation_id = :cid ORDER BY seq"
                ),
                {"cid": conversation_id},
            )
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def conversation_id(page: Page) -> str:
    expect(page).to_have_url(CONVERSATION_URL)
    match = CONVERSATION_URL.search(page.url)
    assert match
    return match.group(1)
