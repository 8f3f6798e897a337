"""Titles in a real browser: a new conversation is listed while its first reply streams,
then named by Claude (the simulator: the first five words of the message), in the list and
in the browser tab's title."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.chat_page import CONVERSATION_URL, button, open_chat, send_with_enter
from tests.e2e.conftest import ARTIFACTS, ServedApp

MESSAGE = "**Suggest** a weekend itinerary for Porto with kids"
PROVISIONAL = "Suggest a weekend itinerary for Porto with kids"
GENERATED = "Suggest a weekend itinerary for"  # simulator/titles.py: the first five words


def test_a_new_conversation_is_listed_at_once_then_titled(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    expect(page).to_have_title("New chat · ai_chat")
    send_with_enter(page, f"{MESSAGE} [[sim tokens=200 tps=25 ttft=0]]")
    expect(page).to_have_url(CONVERSATION_URL)
    cid = CONVERSATION_URL.search(page.url).group(1)
    listed = page.locator(f'a.conv-link[href="/c/{cid}"]')
    # In the list while the first reply still streams, titled by the cleaned message.
    expect(listed).to_have_text(PROVISIONAL)
    expect(page.locator("#live-reply[data-status=streaming]")).to_be_visible()
    expect(page).to_have_title(f"{PROVISIONAL} · ai_chat")
    page.screenshot(path=str(ARTIFACTS / "titles-streaming.png"))

    # Once the reply has ended, Claude's title: in the list, the header and the tab.
    expect(page.locator('.bubble[data-role="assistant"][data-status="complete"]')).to_have_count(
        1, timeout=30_000
    )
    expect(listed).to_have_text(GENERATED)
    expect(page).to_have_title(f"{GENERATED} · ai_chat")
    expect(page.locator(".chat-title")).to_have_text(GENERATED)

    # Stored: a reload shows it; a new chat is "New chat" again.
    page.reload()
    expect(page).to_have_title(f"{GENERATED} · ai_chat")
    button(page, "New chat").click()
    expect(page).to_have_title("New chat · ai_chat")
