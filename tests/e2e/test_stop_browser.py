"""Stopping a reply in a real browser: the Stop button, Esc, and a double click that ends on
Stop. The partial reply stays, marked cancelled, and the simulator sees its connection close.
Helpers and waits as in `test_chat_browser.py` (`chat_page.py`).
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
    USER,
    body,
    button,
    conversation_id,
    flat,
    open_chat,
    send_with_enter,
    stored_messages,
    unique_tag,
    wait_streamed,
    wait_text_stops_growing,
)
from .conftest import ARTIFACTS, ServedApp

pytestmark = pytest.mark.browser


# --- Stop mid-stream, persisted partial reply --------------------------------------------


def test_stop_mid_stream_keeps_partial_reply(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    tag = unique_tag("stop")
    prompt = f"Tell me a long story [[sim tps=15 tokens=2000 tag={tag}]]"
    send_with_enter(page, prompt)

    wait_streamed(page, 40)
    page.screenshot(path=str(ARTIFACTS / "mid-stream.png"))
    button(page, "Stop").click()

    reply = page.locator(ASSISTANT)
    expect(reply).to_have_count(1)
    expect(reply).to_have_attribute("data-status", "cancelled")
    expect(page.locator(LIVE)).to_have_count(0)
    expect(reply.get_by_text("Stopped")).to_be_visible()
    expect(button(page, "Send")).to_be_enabled()
    partial = body(reply)
    assert len(partial) >= 40
    page.screenshot(path=str(ARTIFACTS / "after-stop.png"))

    # The upstream request was really closed, long before the 2000 tokens.
    (record,) = served_app.wait_for_records(
        tag,
        lambda rs: len(rs) == 1 and rs[0]["disconnected_at"] is not None and rs[0]["finished"],
        what="the simulator to see the disconnect",
    )
    assert record["outcome"] == "disconnected", record
    assert record["tokens_sent"] < 2000

    wait_text_stops_growing(page, ASSISTANT)
    assert body(reply) == partial

    # What was stored is a prefix of the simulator's script, no longer than what it sent.
    cid = conversation_id(page)
    rows = stored_messages(served_app, cid)
    assert [(m["role"], m["status"]) for m in rows] == [
        ("user", "complete"),
        ("assistant", "cancelled"),
    ]
    stored = rows[1]["content"]
    full = reply_text(strip_directives(prompt), 2000)
    assert stored and full.startswith(stored), stored
    assert len(stored) <= 4 * record["tokens_sent"]
    assert flat(partial) == flat(stored)

    page.reload()
    expect(button(page, "Send")).to_be_enabled()
    reply = page.locator(ASSISTANT)
    expect(reply).to_have_attribute("data-status", "cancelled")
    expect(page.locator(USER)).to_have_count(1)
    assert body(reply) == partial
    page.screenshot(path=str(ARTIFACTS / "after-reload.png"))


# --- Esc stops too -----------------------------------------------------------------------


def test_escape_stops_streaming_reply(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    tag = unique_tag("esc")
    send_with_enter(page, f"Stop me with Esc [[sim tps=15 tokens=2000 tag={tag}]]")
    wait_streamed(page, 20)
    page.keyboard.press("Escape")

    reply = page.locator(ASSISTANT)
    expect(reply).to_have_attribute("data-status", "cancelled")
    expect(page.locator(LIVE)).to_have_count(0)
    (record,) = served_app.wait_for_records(
        tag,
        lambda rs: len(rs) == 1 and rs[0]["disconnected_at"] is not None,
        what="the simulator to see the disconnect",
    )
    assert record["tokens_sent"] < 2000
    assert body(reply).startswith(INTRO[:20])


def test_the_rest_of_a_double_click_on_stop_does_not_stop_the_reply(
    page: Page, served_app: ServedApp
):
    """Send becomes Stop in place as the reply starts, so a double click on Send can end on
    Stop: a click the browser counts as the 2nd of a multi-click is dropped there."""
    sent: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame))))
    open_chat(page, served_app)
    tag = unique_tag("dblstop")
    send_with_enter(page, f"Keep going [[sim tps=15 tokens=2000 tag={tag}]]")
    wait_streamed(page, 20)
    box = button(page, "Stop").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down(click_count=2)  # only the second click of a double click
    page.mouse.up(click_count=2)
    page.mouse.click(x, y)  # a click of its own
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "cancelled")
    stops = [f for f in sent if "live_state.stop" in f]
    assert len(stops) == 1, stops  # the single click's only
