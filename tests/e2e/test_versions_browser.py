"""Versions in a real browser: Regenerate keeps the old reply (‹ 2/2 ›), ‹ shows it again,
a reload keeps the branch chosen, and Edit happens in place (the bubble becomes a box with
Save and Cancel; the message box keeps its draft) and sends Claude the edited branch only."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from ai_chat.simulator.options import strip_directives
from ai_chat.simulator.script import reply_text

from .chat_page import (
    ASSISTANT,
    REPLY_TIMEOUT_MS,
    USER,
    body,
    button,
    composer,
    conversation_id,
    flat,
    open_chat,
    send_with_enter,
    stored_messages,
    unique_tag,
)
from .conftest import ARTIFACTS, ServedApp
from .test_accessibility_browser import _axe  # axe-core's WCAG 2 A/AA rules

pytestmark = pytest.mark.browser

FAST = "tps=400 ttft=0 tokens=12"


def _send(page: Page, text: str, replies: int) -> None:
    send_with_enter(page, text)
    expect(page.locator(ASSISTANT)).to_have_count(replies, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(f"{ASSISTANT}[data-status=complete]")).to_have_count(replies)
    expect(button(page, "Send")).to_be_visible()


def _versions(bubble: Locator) -> Locator:
    return bubble.locator(".versions")


def _action(bubble: Locator, name: str) -> Locator:
    bubble.hover()  # actions show on hover (they are reachable by keyboard too)
    return bubble.get_by_role("button", name=name, exact=True)


def test_regenerate_keeps_the_old_reply_and_a_reload_keeps_the_version_chosen(
    page: Page, served_app: ServedApp
):
    open_chat(page, served_app)
    _send(page, f"Versions please [[sim {FAST}]]", 1)
    first = page.locator(ASSISTANT).last
    first_id = first.get_attribute("id")
    expect(_versions(first)).to_have_count(0)  # one version: no ‹ ›

    _action(first, "Regenerate reply").click()
    expect(page.locator(f"{ASSISTANT}[data-status=complete]")).to_have_count(
        1, timeout=REPLY_TIMEOUT_MS
    )
    latest = page.locator(ASSISTANT).last
    expect(latest).not_to_have_attribute("id", first_id or "")
    expect(_versions(latest).locator(".version-label")).to_have_text("2 / 2")
    expect(_action(latest, "Next version")).to_be_disabled()

    page.screenshot(path=str(ARTIFACTS / "versions-regenerated.png"))
    assert _axe(page, "versions") == []
    _action(latest, "Previous version").click()
    expect(page.locator(ASSISTANT).last).to_have_attribute("id", first_id or "")
    expect(_versions(page.locator(ASSISTANT).last).locator(".version-label")).to_have_text("1 / 2")

    cid = conversation_id(page)
    page.reload()
    expect(button(page, "Send")).to_be_enabled()
    shown = page.locator(ASSISTANT).last
    expect(shown).to_have_attribute("id", first_id or "")
    expect(_versions(shown).locator(".version-label")).to_have_text("1 / 2")
    assert [m["role"] for m in stored_messages(served_app, cid)] == [
        "user",
        "assistant",
        "assistant",
    ]


def test_edit_happens_in_place_and_claude_sees_the_edited_branch(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    _send(page, f"alpha [[sim {FAST}]]", 1)
    _send(page, f"beta [[sim {FAST}]]", 2)
    composer(page).fill("a draft I am typing")

    beta = page.locator(USER).last
    _action(beta, "Edit message").click()
    box = beta.get_by_role("textbox", name="Edit your message")
    expect(box).to_be_focused()
    expect(box).to_have_value(f"beta [[sim {FAST}]]")
    beta.get_by_role("button", name="Cancel", exact=True).click()  # Cancel changes nothing
    expect(beta.get_by_role("textbox", name="Edit your message")).to_have_count(0)
    expect(beta.locator(".message-body")).to_have_text(f"beta [[sim {FAST}]]")
    _action(beta, "Edit message").click()
    beta.get_by_role("textbox", name="Edit your message").press("Escape")  # so does Esc
    expect(beta.get_by_role("textbox", name="Edit your message")).to_have_count(0)

    _action(beta, "Edit message").click()
    tag = unique_tag("edit")
    edited_text = f"beta edited [[sim {FAST} tag={tag}]]"
    beta.get_by_role("textbox", name="Edit your message").fill(edited_text)
    page.screenshot(path=str(ARTIFACTS / "versions-editing.png"))
    assert _axe(page, "versions-editing") == []
    beta.get_by_role("textbox", name="Edit your message").press("Control+Enter")  # = Save
    expect(page.locator(USER).last.locator(".message-body")).to_have_text(edited_text)
    expect(page.locator(f"{ASSISTANT}[data-status=complete]")).to_have_count(
        2, timeout=REPLY_TIMEOUT_MS
    )
    assert flat(body(page.locator(ASSISTANT).last)) == flat(reply_text("beta edited", 12))
    expect(_versions(page.locator(USER).last).locator(".version-label")).to_have_text("2 / 2")
    expect(composer(page)).to_have_value("a draft I am typing")  # the draft stays
    (record,) = served_app.wait_for_records(tag, lambda r: r and r[0]["outcome"] == "complete")
    sent = [(m["role"], strip_directives(m["content"]).strip()) for m in record["messages"]]
    assert sent == [
        ("user", "alpha"),
        ("assistant", reply_text("alpha", 12)),
        ("user", "beta edited"),
    ]

    _action(page.locator(USER).last, "Previous version").click()
    expect(page.locator(USER).last.locator(".message-body")).to_have_text(f"beta [[sim {FAST}]]")
    expect(_versions(page.locator(USER).last).locator(".version-label")).to_have_text("1 / 2")
    assert flat(body(page.locator(ASSISTANT).last)) == flat(reply_text("beta", 12))
