"""A 200-turn conversation: it loads, only the streaming reply re-renders, scrolling is ours."""

from __future__ import annotations

import time

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.e2e.accounts import Account
from tests.e2e.barriers import rendered
from tests.e2e.chat_page import open_chat, send_with_enter
from tests.e2e.conftest import ARTIFACTS, ServedApp

TURNS = 200
LIVE_LENGTH = "() => document.querySelector('#live-reply .message-body')?.innerText.length ?? 0"
REPLY = (
    "Here is **part {i}** of the answer, with a list:\n\n- one\n- two\n\n"
    "```python\nprint({i})\n```\n"
)

# Counts DOM mutations inside stored message bubbles (not the live reply).
WATCH_SCRIPT = """
() => {
  window.__storedMutations = 0;
  const log = document.getElementById('messages');
  new MutationObserver((records) => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (el && el.closest('.bubble') && !el.closest('#live-reply')) window.__storedMutations++;
    }
  }).observe(log, {childList: true, subtree: true, characterData: true, attributes: true});
}
"""


def _seed(app: ServedApp, owner: str) -> str:
    from ai_chat.store.models import Conversation, Message

    engine = sa.create_engine(app.db_url)
    with Session(engine) as session:
        conversation = Conversation(owner=owner, title="A very long conversation")
        session.add(conversation)
        session.flush()
        for i in range(TURNS):
            role = "user" if i % 2 == 0 else "assistant"
            content = f"Question {i}?" if role == "user" else REPLY.format(i=i)
            session.add(
                Message(
                    conversation_id=conversation.id,
                    seq=i,
                    role=role,
                    content=content,
                    status="complete",
                    output_tokens=20,
                )
            )
        session.commit()
        conversation_id = conversation.id
    engine.dispose()
    return conversation_id


def test_long_conversation_loads_and_only_the_live_reply_rerenders(
    page: Page, served_app: ServedApp, user: Account
):
    cid = _seed(served_app, user.user_id)
    started = time.monotonic()
    open_chat(page, served_app, f"/c/{cid}")
    expect(page.locator(".bubble")).to_have_count(TURNS, timeout=30_000)
    load_s = time.monotonic() - started
    (ARTIFACTS / "long-conversation.txt").write_text(f"{TURNS} turns rendered in {load_s:.2f} s\n")

    page.evaluate(WATCH_SCRIPT)
    # Long enough to still be streaming through every check below, even on a loaded machine.
    send_with_enter(page, "One more [[sim tokens=6000 tps=120 ttft=0]]")
    page.wait_for_function(
        "document.querySelector('#live-reply .message-body')?.innerText.length > 100"
    )
    page.evaluate("window.__storedMutations = 0")  # from here on: mid-stream only
    page.wait_for_function(
        "document.querySelector('#live-reply .message-body')?.innerText.length > 1200"
    )
    assert page.evaluate("window.__storedMutations") == 0, "stored messages re-rendered mid-stream"
    page.screenshot(path=str(ARTIFACTS / "long-conversation.png"))

    # scrolled up, the view stays put and "Jump to latest" brings the reader back
    log = page.locator("#messages")
    # The scroll up and a change to the log in one task: the change is seen before the
    # scroll event (dispatched at the next frame), as when a push lands mid-scroll.
    log.evaluate("el => { el.scrollTo({top: 0}); el.appendChild(document.createComment('')); }")
    jump = page.get_by_role("button", name="Jump to latest", exact=True)
    expect(jump).to_be_visible()
    top = log.evaluate("el => el.scrollTop")
    shown = page.evaluate(LIVE_LENGTH)
    # More text arrives meanwhile (a push after the scroll); the reader is not dragged down.
    page.wait_for_function(f"({LIVE_LENGTH})() > {shown}")
    rendered(page)
    assert log.evaluate("el => el.scrollTop") == top
    jump.click()
    page.wait_for_function(
        "(() => { const l = document.getElementById('messages');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight < 80; })()"
    )
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator('.bubble[data-role="assistant"][data-status="cancelled"]')).to_have_count(1)
