"""The chat app in a real browser (Chromium), served by `reflex run --env prod`.

Replies come from the built-in Claude simulator, steered by `[[sim ...]]` directives in the
message. Every wait is on a condition (Playwright's expect / wait_for_function, or polling
the simulator's records); the only timed wait is the "text stopped growing" check, which
compares text across a condition (no change for a number of push intervals). Stopping a
reply is in `test_stop_browser.py`.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ai_chat.simulator.options import strip_directives
from ai_chat.simulator.script import reply_text

from .chat_page import (
    ASSISTANT,
    INTRO,
    LIVE,
    LIVE_LOG_SCRIPT,
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
from .conftest import ServedApp

pytestmark = pytest.mark.browser


# --- badge, connection, empty messages ------------------------------------------------


def test_badge_connected_and_blank_messages_are_not_sent(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    # An explicit ANTHROPIC_BASE_URL (the standalone simulator): no badge. The built-in
    # simulator's badge is checked in test_builtin_simulator_browser.py.
    # Connected: Send is enabled (open_chat) and no "Reconnecting…" notice shows.
    expect(page.locator("#offline-banner")).to_have_count(0)
    expect(page.locator("#simulator-badge")).to_have_count(0)
    expect(page.get_by_text("How can Claude help?")).to_be_visible()

    box = composer(page)
    box.fill("")
    button(page, "Send").click()
    box.fill("   \n\t  ")
    box.press("Enter")
    button(page, "Send").click()

    # Events of a tab run in order: once this real message shows, the blank ones were handled.
    tag = unique_tag("blank")
    send_with_enter(page, f"Real one [[sim tps=400 tokens=20 tag={tag}]]")
    expect(page.locator(ASSISTANT)).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(USER)).to_have_count(1)
    assert body(page.locator(USER)) == f"Real one [[sim tps=400 tokens=20 tag={tag}]]"
    assert len(served_app.sim_records(tag)) == 1


# --- Enter sends, thinking -> streaming -> complete, URL, Shift+Enter -------------------


def test_enter_sends_and_reply_streams_to_completion(page: Page, served_app: ServedApp):
    page.add_init_script(LIVE_LOG_SCRIPT)
    open_chat(page, served_app)
    tag = unique_tag("enter")
    box = composer(page)

    # Shift+Enter is a newline, not a send.
    box.press_sequentially("Hello from the browser")
    box.press("Shift+Enter")
    box.press_sequentially(f"second line [[sim ttft=1 tps=60 tokens=80 tag={tag}]]")
    text = f"Hello from the browser\nsecond line [[sim ttft=1 tps=60 tokens=80 tag={tag}]]"
    expect(box).to_have_value(text)
    expect(page.locator(".bubble")).to_have_count(0)

    box.press("Enter")
    user = page.locator(USER)
    expect(user).to_have_count(1)
    expect(user.locator(".message-body")).to_have_text(text)
    expect(box).to_have_value("")

    live = page.locator(LIVE)
    expect(live).to_have_attribute("data-status", "thinking")
    expect(live).to_contain_text("Claude is thinking")
    expect(live).to_have_attribute("data-status", "streaming")
    expect(live.locator(".message-body")).to_contain_text("This reply comes")
    expect(button(page, "Stop")).to_be_visible()

    expect(live).to_be_hidden(timeout=REPLY_TIMEOUT_MS)
    reply = page.locator(ASSISTANT)
    expect(reply).to_have_count(1)
    expect(reply).to_have_attribute("data-status", "complete")
    final = body(reply)
    assert final.startswith(INTRO), final
    expected = reply_text(strip_directives(text), 80)
    assert flat(final) == flat(expected)
    assert "You wrote: “Hello from the browser second line”" in final
    expect(button(page, "Send")).to_be_visible()

    # The live reply went thinking -> streaming (growing text) and then went away.
    log = page.evaluate("window.__liveLog")
    statuses = [entry["status"] for entry in log]
    assert "thinking" in statuses and "streaming" in statuses, log
    assert statuses.index("thinking") < statuses.index("streaming"), log
    assert statuses[-1] is None, log
    streamed = [e["len"] for e in log if e["status"] == "streaming"]
    assert len(set(streamed)) >= 3, f"the text did not stream in steps: {log}"
    assert streamed == sorted(streamed), f"the streamed text shrank: {log}"

    cid = conversation_id(page)
    (record,) = served_app.sim_records(tag)
    assert record["outcome"] == "complete" and record["tokens_sent"] == 80
    assert record["messages"] == [{"role": "user", "content": text}]
    assert [(m["role"], m["status"]) for m in stored_messages(served_app, cid)] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]


# --- A failed reply, then a normal one ---------------------------------------------------


def test_failed_reply_shows_error_and_next_message_works(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    tag = unique_tag("fail")
    send_with_enter(page, f"Please fail [[sim error=529 retry_after=1 tag={tag}]]")

    failed = page.locator(ASSISTANT)
    expect(failed).to_have_attribute("data-status", "failed", timeout=REPLY_TIMEOUT_MS)
    alert = failed.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("overloaded")
    expect(failed.get_by_text("Failed", exact=True)).to_be_visible()
    records = served_app.sim_records(tag)
    assert records and all(r["outcome"] == "error:529" for r in records), records

    ok_tag = unique_tag("after-fail")
    send_with_enter(page, f"All good now [[sim tps=400 tokens=50 tag={ok_tag}]]")
    expect(page.locator(ASSISTANT)).to_have_count(2, timeout=REPLY_TIMEOUT_MS)
    second = page.locator(ASSISTANT).nth(1)
    expect(second).to_have_attribute("data-status", "complete")
    assert body(second).startswith(INTRO)
    expect(page.locator(USER)).to_have_count(2)
    expect(page.locator(ASSISTANT).first).to_have_attribute("data-status", "failed")
    (record,) = served_app.sim_records(ok_tag)
    assert record["outcome"] == "complete"


# --- Double submit ------------------------------------------------------------------------


def test_double_click_and_double_enter_create_one_turn(page: Page, served_app: ServedApp):
    sent: list[str] = []  # what the page sent over the Reflex websocket
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    open_chat(page, served_app)
    click_tag, enter_tag = unique_tag("dblclick"), unique_tag("dblenter")

    composer(page).fill(f"Once please [[sim ttft=0.5 tps=400 tokens=30 tag={click_tag}]]")
    button(page, "Send").dblclick()
    expect(page.locator(ASSISTANT)).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(LIVE)).to_have_count(0)

    box = composer(page)
    box.fill(f"Once again [[sim ttft=0.5 tps=400 tokens=30 tag={enter_tag}]]")
    box.press("Enter")
    box.press("Enter")
    expect(page.locator(ASSISTANT)).to_have_count(2, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(LIVE)).to_have_count(0)

    expect(page.locator(USER)).to_have_count(2)
    for reply in page.locator(ASSISTANT).all():
        expect(reply).to_have_attribute("data-status", "complete")
    assert len(served_app.sim_records(click_tag)) == 1
    assert len(served_app.sim_records(enter_tag)) == 1
    # The second click reached the server as a second send (which ran no turn for it), or,
    # when the reply had already turned Send into Stop, it landed on Stop and went nowhere.
    sends = [f for f in sent if "_state.send" in f]
    assert sum(click_tag in f for f in sends) in (1, 2), sends
    assert not [f for f in sent if "live_state.stop" in f]
    # The second Enter may already find the box cleared by the first (then it sends "").
    after_enter = sends[sends.index(next(f for f in sends if enter_tag in f)) :]
    assert len(after_enter) == 2, after_enter

    cid = conversation_id(page)
    page.reload()
    expect(page.locator(USER)).to_have_count(2)
    assert [m["role"] for m in stored_messages(served_app, cid)] == [
        "user",
        "assistant",
        "user",
        "assistant",
    ]


# --- New chat, history navigation, old URLs ----------------------------------------------


def test_new_chat_and_back_forward_restore_conversations(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    tag = unique_tag("nav")
    send_with_enter(page, f"Remember me [[sim tps=400 tokens=50 tag={tag}]]")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    cid = conversation_id(page)
    old_url = page.url
    expect(page.locator(".chat-title")).to_contain_text("Remember me")

    button(page, "New chat").click()
    expect(page).to_have_url(served_app.url("/"))
    expect(page.locator(".bubble")).to_have_count(0)
    expect(page.get_by_text("How can Claude help?")).to_be_visible()
    expect(page.locator(".chat-title")).to_have_text("New chat")

    page.go_back()
    expect(page).to_have_url(old_url)
    expect(page.locator(".bubble")).to_have_count(2)
    expect(page.locator(USER)).to_contain_text("Remember me")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")

    page.go_forward()
    expect(page).to_have_url(served_app.url("/"))
    expect(page.locator(".bubble")).to_have_count(0)

    page.goto(served_app.url(f"/c/{cid}"))
    expect(button(page, "Send")).to_be_enabled()
    expect(page.locator(".bubble")).to_have_count(2)
    expect(page.locator(USER)).to_contain_text("Remember me")
    assert body(page.locator(ASSISTANT)).startswith(INTRO)
