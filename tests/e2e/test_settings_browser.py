"""Per-conversation settings set in the dialog reach Claude's request; cost is shown."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.chat_page import open_chat, send_with_enter
from tests.e2e.conftest import ARTIFACTS, ServedApp


def test_settings_dialog_changes_model_and_system_prompt(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    # The model is picked beside the message box; the dialog has the rest.
    page.get_by_role("combobox", name="Model", exact=True).select_option("claude-opus-5-5")
    page.get_by_role("button", name="Conversation settings", exact=True).click()
    dialog = page.get_by_role("dialog", name="Conversation settings", exact=True)
    dialog.get_by_role("textbox", name="System prompt", exact=True).fill("Answer like a pirate.")
    page.screenshot(path=str(ARTIFACTS / "settings.png"))
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".model-badge")).to_have_text("Claude Opus 5.5")

    tag = f"settings-{uuid.uuid4().hex[:8]}"
    send_with_enter(page, f"Ahoy [[sim tokens=30 tps=300 ttft=0 tag={tag}]]")
    reply = page.locator('.bubble[data-role="assistant"][data-status="complete"]')
    expect(reply).to_have_count(1)
    (record,) = served_app.wait_for_records(tag, lambda r: len(r) == 1 and r[0]["finished"])
    assert record["model"] == "claude-opus-5-5"
    assert record["system"] == "Answer like a pirate."
    expect(reply.locator(".usage")).to_contain_text(re.compile(r"\$\d+\.\d{4}"))

    # the settings belong to this conversation: reopening the dialog shows them
    page.reload()
    expect(page.locator(".model-badge")).to_have_text("Claude Opus 5.5")
    page.get_by_role("button", name="Conversation settings", exact=True).click()
    expect(page.get_by_role("textbox", name="System prompt", exact=True)).to_have_value(
        "Answer like a pirate."
    )


def test_extended_thinking_shows_in_a_collapsed_block(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    page.get_by_role("button", name="Conversation settings", exact=True).click()
    dialog = page.get_by_role("dialog", name="Conversation settings", exact=True)
    dialog.get_by_role("checkbox", name="Extended thinking", exact=True).click()
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_have_count(0)
    send_with_enter(page, "Think first [[sim tokens=40 tps=80 ttft=0]]")
    live_thinking = page.locator("#live-reply details.thinking")
    expect(live_thinking).to_be_visible()
    reply = page.locator('.bubble[data-role="assistant"][data-status="complete"]')
    expect(reply).to_have_count(1)
    details = reply.locator("details.thinking")
    expect(details).not_to_have_attribute("open", "")  # collapsed: the answer comes first
    details.locator("summary").click()
    expect(details).to_contain_text("Simulated thinking")
    expect(reply.locator(".message-body")).not_to_contain_text("Simulated thinking")
    page.screenshot(path=str(ARTIFACTS / "thinking.png"))
