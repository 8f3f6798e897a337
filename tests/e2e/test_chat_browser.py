"""The chat app in a real browser (Chromium), served by `reflex run --env prod`.

Replies come from the built-in Claude simulator, steered by `[[sim ...]]` directives in the
message. Every wait is on a condition (Playwright's expect / wait_for_function, or polling
the simulator's records); the only timed wait is the "text stopped growing" check, which
compares text across a condition (no change for a number of push intervals).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from ai_chat.simulator.options import strip_directives
from ai_chat.simulator.script import reply_text

from .conftest import ARTIFACTS, ServedApp

pytestmark = pytest.mark.browser

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


# --- a. badge, connection, empty messages ------------------------------------------------


def test_badge_connected_and_blank_messages_are_not_sent(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    expect(page.locator("#simulator-badge")).to_have_text("Simulator")
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
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


# --- b. Enter sends, thinking -> streaming -> complete, URL, Shift+Enter -------------------


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


# --- c. Stop mid-stream, persisted partial reply --------------------------------------------


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


# --- d. Esc stops too -----------------------------------------------------------------------


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


# --- e. A failed reply, then a normal one ---------------------------------------------------


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


# --- f. Double submit ------------------------------------------------------------------------


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


# --- g. New chat, history navigation, old URLs ----------------------------------------------


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
