"""The message box in a real browser: the model picker beside it (and the user's choices
kept for new chats), its height after sending (Edit happens in the message itself), drafts
per conversation, suggestions, the thinking budget's field, and the placeholder at phone
width."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.chat_page import CONVERSATION_URL, button, composer, open_chat, send_with_enter
from tests.e2e.chat_page import unique_tag as tagged
from tests.e2e.conftest import ARTIFACTS, ServedApp

FAST = "tokens=8 tps=400 ttft=0"


def _picker(page: Page):
    return page.get_by_role("combobox", name="Model", exact=True)


def _height(page: Page) -> float:
    return composer(page).evaluate("el => el.getBoundingClientRect().height")


def _reply_done(page: Page, count: int) -> None:
    done = page.locator('.bubble[data-role="assistant"][data-status="complete"]')
    expect(done).to_have_count(count, timeout=30_000)


def test_the_picker_sets_the_next_replys_model_and_new_chats_keep_it(
    page: Page, served_app: ServedApp
):
    open_chat(page, served_app)
    picker = _picker(page)
    expect(picker).to_have_value("claude-sonnet-5-5")
    # Beside the box: in the composer, below the text field, not in a dialog.
    expect(page.locator("form.composer").get_by_role("combobox", name="Model")).to_be_visible()
    picker.select_option("claude-opus-5-5")
    expect(page.locator(".model-badge")).to_have_text("Claude Opus 5.5")
    tag = tagged("picker")
    send_with_enter(page, f"Which model? [[sim {FAST} tag={tag}]]")
    _reply_done(page, 1)
    (record,) = served_app.wait_for_records(tag, lambda r: len(r) == 1 and r[0]["finished"])
    assert record["model"] == "claude-opus-5-5"

    # A new chat after a reload (as on another device) starts with the last choice.
    page.goto(served_app.url("/"))
    expect(button(page, "Send")).to_be_enabled()
    expect(_picker(page)).to_have_value("claude-opus-5-5")
    tag2 = tagged("picker-new")
    send_with_enter(page, f"And now? [[sim {FAST} tag={tag2}]]")
    _reply_done(page, 1)
    (second,) = served_app.wait_for_records(tag2, lambda r: len(r) == 1 and r[0]["finished"])
    assert second["model"] == "claude-opus-5-5"
    page.screenshot(path=str(ARTIFACTS / "composer-picker.png"))


def test_the_box_shrinks_back_to_one_line_after_sending(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    one_line = _height(page)
    box = composer(page)
    box.fill("\n".join(f"line {i}" for i in range(12)))
    page.wait_for_function(
        "h => document.getElementById('message').getBoundingClientRect().height > 3 * h",
        arg=one_line,
    )
    box.press("Enter")
    expect(box).to_have_value("")
    page.wait_for_function(
        "h => Math.abs(document.getElementById('message').getBoundingClientRect().height - h) < 1",
        arg=one_line,
    )
    _reply_done(page, 1)


def test_drafts_belong_to_their_conversation(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    send_with_enter(page, f"Conversation A [[sim {FAST}]]")
    _reply_done(page, 1)
    expect(page).to_have_url(CONVERSATION_URL)
    a_url = page.url
    box = composer(page)
    box.fill("half-written for A")

    button(page, "New chat").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(box).to_have_value("")  # A's draft did not follow into the new chat
    box.fill("an idea for a new chat")

    page.locator(f'a.conv-link[href="{a_url[a_url.index("/c/") :]}"]').click()
    expect(page).to_have_url(a_url)
    expect(box).to_have_value("half-written for A")

    button(page, "New chat").click()
    expect(box).to_have_value("an idea for a new chat")

    # Kept across a reload (this browser's storage); a sent message clears its draft.
    page.goto(a_url)
    expect(button(page, "Send")).to_be_enabled()
    expect(box).to_have_value("half-written for A")
    box.fill(f"sent from A [[sim {FAST}]]")
    box.press("Enter")
    _reply_done(page, 2)
    page.reload()
    expect(button(page, "Send")).to_be_enabled()
    expect(page.locator(".bubble[data-role=user]")).to_have_count(2)
    expect(box).to_have_value("")


def test_what_is_typed_while_a_new_chat_is_created_stays_with_it(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    send_with_enter(page, "Start here [[sim tokens=120 tps=30 ttft=0]]")
    expect(page).to_have_url(CONVERSATION_URL)  # created while its first reply streams
    url = page.url
    box = composer(page)
    box.fill("the next question")
    expect(page.locator('.bubble[data-role="assistant"][data-status="complete"]')).to_have_count(
        1, timeout=30_000
    )
    expect(box).to_have_value("the next question")
    button(page, "New chat").click()
    expect(box).to_have_value("")
    page.goto(url)
    expect(button(page, "Send")).to_be_enabled()
    expect(box).to_have_value("the next question")


def test_a_suggestion_fills_the_box_without_sending(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    suggestions = page.get_by_role("group", name="Suggestions")
    expect(suggestions.get_by_role("button")).to_have_count(4)
    suggestions.get_by_role("button", name=re.compile("^Plan something")).click()
    box = composer(page)
    expect(box).to_have_value("Help me plan a relaxed three-day weekend in Lisbon.")
    expect(box).to_be_focused()
    expect(page.locator(".bubble")).to_have_count(0)  # not sent
    page.screenshot(path=str(ARTIFACTS / "composer-suggestions.png"))


def test_the_thinking_budget_is_enabled_only_with_thinking_on(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    button(page, "Conversation settings").click()
    dialog = page.get_by_role("dialog", name="Conversation settings", exact=True)
    budget = dialog.get_by_label("Thinking budget (tokens)")
    expect(budget).to_be_disabled()
    dialog.get_by_role("checkbox", name="Extended thinking", exact=True).click()
    expect(budget).to_be_enabled()
    dialog.get_by_role("checkbox", name="Extended thinking", exact=True).click()
    expect(budget).to_be_disabled()


def test_the_placeholder_fits_on_one_line_on_a_phone(page: Page, served_app: ServedApp):
    page.set_viewport_size({"width": 390, "height": 844})
    open_chat(page, served_app)
    fits = composer(page).evaluate(
        """el => {
          const style = getComputedStyle(el);
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const room = el.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
          return {text: ctx.measureText(el.placeholder).width, room,
                  lines: Math.round(el.scrollHeight / parseFloat(style.lineHeight))};
        }"""
    )
    assert fits["text"] <= fits["room"], fits
    assert fits["lines"] <= 2, fits  # one line of text inside the padding
    page.screenshot(path=str(ARTIFACTS / "composer-phone.png"))
