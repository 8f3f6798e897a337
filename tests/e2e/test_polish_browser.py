"""Rough edges, fixed: tables scroll, blockquotes stand out, code blocks are labelled and
one size in both themes, a half-arrived `**` shows no raw bullet, an error is said once,
retries are said, a dropped connection gives one calm notice, hovered titles stay readable,
message actions are 32 px targets, and "Jump to latest" shows only with something below,
never over the message box. At 390x844 and 1280x900, light and dark where it matters."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.conftest import service_missing
from tests.e2e.accounts import Account
from tests.e2e.barriers import rendered, transitions_done
from tests.e2e.chat_page import ASSISTANT, REPLY_TIMEOUT_MS, button, open_chat, send_with_enter
from tests.e2e.conftest import ARTIFACTS, ROOT, ServedApp
from tests.e2e.test_phone_browser import LAPTOP, SIZES, seed_conversations

pytestmark = pytest.mark.browser

AXE = ROOT / ".tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WORDS = ["Conceptualization", "Internationalization", "Responsibilities", "Characteristically"]
RICH_REPLY = (
    "A table, a quote and code.\n\n"
    "| " + " | ".join(f"Head {i}" for i in range(6)) + " |\n"
    "|" + "---|" * 6 + "\n"
    "| " + " | ".join(WORDS + WORDS[:2]) + " |\n\n"
    "> Quoted words, set apart from the answer.\n\n"
    "```python\nprint('hello')\n```\n\n"
    "```\nno language named\n```\n"
)
DARK = "document.documentElement.classList.contains('dark')"


def ask(page: Page, served_app: ServedApp, text: str) -> None:
    """A new chat with one question, its reply complete."""
    open_chat(page, served_app)
    send_with_enter(page, text)
    expect(page.locator(f"{ASSISTANT}[data-status=complete]")).to_have_count(
        1, timeout=REPLY_TIMEOUT_MS
    )


def set_theme(page: Page, theme: str) -> None:
    if page.evaluate(DARK) != (theme == "dark"):
        toggle = page.get_by_role("button", name="Toggle dark mode", exact=True)
        if toggle.is_visible():
            toggle.click()
        else:
            page.get_by_role("button", name="More actions", exact=True).click()
            page.get_by_role("menuitem", name=re.compile("theme$")).click()
        page.wait_for_function(f"{DARK} === {str(theme == 'dark').lower()}")
    transitions_done(page)


def axe(page: Page, context: Any, rules: list[str] | None = None) -> list[dict[str, Any]]:
    if not AXE.exists():
        service_missing("axe-core", f"{AXE} missing (make test installs it)")
    page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "rule", "values": rules}} if rules else {}
    result = page.evaluate(
        "async ([ctx, opts]) => (await axe.run(ctx, opts)).violations", [context, options]
    )
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result]


@SIZES
def test_tables_scroll_quotes_stand_out_and_code_is_labelled_in_one_size(
    page: Page, served_app: ServedApp, size: dict[str, int]
):
    page.set_viewport_size(size)
    ask(page, served_app, "[[sim echo=1 tps=5000 ttft=0]]\n" + RICH_REPLY)  # said back
    reply = page.locator(ASSISTANT).last
    table = reply.locator(".md-table")
    expect(table).to_be_visible()
    # Wider than the bubble: it scrolls inside it, and the keyboard can reach it.
    page.wait_for_function(  # the table as rendered now (the reply's end may re-render it)
        "s => [...document.querySelectorAll(s)].some(t => t.scrollWidth > t.clientWidth + 20)",
        arg=f"{ASSISTANT} .md-table",
    )
    bubble_box, table_box = reply.bounding_box(), table.bounding_box()
    assert table_box["x"] + table_box["width"] <= bubble_box["x"] + bubble_box["width"]
    assert table.get_attribute("tabindex") == "0"
    # No word is broken across lines ("Concep/t").
    cells = reply.locator("td")
    expect(cells).to_have_count(6)
    lines = cells.evaluate_all(
        "cells => cells.map(c => { const r = document.createRange(); r.selectNodeContents(c);"
        " return [c.innerText, r.getClientRects().length]; })"
    )
    assert all(count == 1 for _, count in lines), lines

    quote = reply.locator("blockquote")
    paragraph = reply.locator("p").first
    style = quote.evaluate(
        "el => { const s = getComputedStyle(el);"
        " return [parseFloat(s.borderLeftWidth), s.borderLeftStyle, s.color]; }"
    )
    assert style[0] >= 2 and style[1] == "solid", style
    assert style[2] != paragraph.evaluate("el => getComputedStyle(el).color"), "muted"

    expect(reply.locator(".md-code .code-lang")).to_have_text(["python", "text"])
    sizes = {}
    for theme in ("light", "dark"):
        set_theme(page, theme)
        sizes[theme] = reply.locator(".md-code pre code").evaluate_all(
            "codes => codes.map(c => getComputedStyle(c).fontSize)"
        )
        page.screenshot(path=str(ARTIFACTS / f"rich-{theme}-{size['width']}.png"))
    assert sizes["light"] == sizes["dark"] and len(set(sizes["light"])) == 1, sizes


def test_a_half_arrived_bold_shows_no_raw_bullet_while_streaming(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    # Echoed 4 characters a token; silent after two: the live text stays "- **Stre".
    send_with_enter(page, "- **Streaming** arrives in pieces [[sim echo=1 stall=2 ttft=0]]")
    live = page.locator("#live-reply[data-status=streaming] .message-body")
    expect(live.locator("li strong")).to_have_text("Stre", timeout=REPLY_TIMEOUT_MS)
    assert "*" not in live.inner_text()
    expect(live.locator("ul ul")).to_have_count(0)  # "- *" is no second bullet either
    cases = {
        "- *": "- ",
        "- **Bold**": "- **Bold**",
        "**bold *it": "**bold *it***",
        "Hello *wor": "Hello *wor*",
        "2 * 3 = 6": "2 * 3 = 6",
        "use `a*b": "use `a*b`",
        "```\ncode **": "```\ncode **",
        "Para\n-": "Para\n",
    }
    closed = page.evaluate(
        "cases => cases.map(c => window.aiChatPolish.liveMarkdown(c))", list(cases)
    )
    assert dict(zip(cases, closed, strict=True)) == cases
    button(page, "Stop").click()
    expect(page.locator(f"{ASSISTANT}[data-status=cancelled]")).to_have_count(1)


@SIZES
def test_an_error_is_said_once_in_the_reply(
    page: Page, served_app: ServedApp, size: dict[str, int]
):
    page.set_viewport_size(size)
    open_chat(page, served_app)
    send_with_enter(page, "Fail please [[sim error=400]]")
    failed = page.locator(f"{ASSISTANT}[data-status=failed]")
    expect(failed.get_by_role("alert")).to_contain_text("rejected the request")
    rendered(page)  # a toast sent with the reply's end would be on the page by now
    expect(page.locator("[data-sonner-toast]")).to_have_count(0)


def test_a_retry_is_said_in_the_live_bubble(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    send_with_enter(page, "Busy? [[sim error=529 retry_after=1.5]]")
    status = page.locator("#live-reply .live-status")
    expect(status).to_have_text("Claude is busy. Retrying (1/2)…")
    expect(status).to_have_text("Claude is busy. Retrying (2/2)…")
    expect(page.locator(f"{ASSISTANT}[data-status=failed]")).to_have_count(1)


@SIZES
def test_a_dropped_connection_gives_one_calm_notice(
    page: Page, served_app: ServedApp, size: dict[str, int]
):
    page.set_viewport_size(size)
    sockets: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:  # every attempt to open the event socket
        sockets.append(ws)
        ws.connect_to_server()  # fails while the context is offline

    page.route_web_socket(re.compile(r"/_event"), through)
    open_chat(page, served_app)
    page.context.set_offline(True)
    for ws in list(sockets):
        ws.close()  # the live socket drops; reconnecting fails until back online
    banner = page.locator("#offline-banner")
    expect(banner).to_have_text("Reconnecting…")
    expect(button(page, "Send")).to_be_disabled()
    attempts = len(sockets)
    while len(sockets) < attempts + 3:  # Reflex's own toast comes from the 2nd failure on
        page.wait_for_timeout(50)
    rendered(page)
    expect(banner).to_have_count(1)
    expect(page.locator("[data-sonner-toast]")).to_have_count(0)
    expect(
        page.get_by_text(re.compile("Cannot connect|websocket error|Offline|Connecting to"))
    ).to_have_count(0)
    expect(page.locator("[title^='Connection Error']")).to_have_count(0)  # Reflex's pulsing icon
    page.screenshot(path=str(ARTIFACTS / f"offline-{size['width']}.png"))

    page.context.set_offline(False)
    expect(banner).to_have_count(0, timeout=20_000)
    expect(button(page, "Send")).to_be_enabled()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_hovered_title_stays_readable(
    page: Page, served_app: ServedApp, user: Account, theme: str
):
    page.set_viewport_size(LAPTOP)
    first, second = seed_conversations(served_app, user.user_id, ["Open one", "Hover me"])
    open_chat(page, served_app, f"/c/{first}")
    set_theme(page, theme)
    link = page.get_by_role("link", name="Hover me", exact=True)
    before = link.evaluate("el => getComputedStyle(el).color")
    link.hover()
    transitions_done(page)
    assert link.evaluate("el => getComputedStyle(el).color") == before, "no pale hover colour"
    assert axe(page, f"[data-conversation='{second}']", ["color-contrast"]) == []


@SIZES
def test_message_actions_are_32px_targets_at_full_opacity(
    page: Page, served_app: ServedApp, size: dict[str, int]
):
    page.set_viewport_size(size)
    ask(page, served_app, "Short question [[sim tokens=10 tps=5000 ttft=0]]")
    actions = page.locator(".message-actions button:visible")
    expect(actions).to_have_count(4)  # Copy and Edit; Copy and Regenerate
    sizes = actions.evaluate_all(  # all at once: the list may re-render between two reads
        "els => els.map(e => [e.getAttribute('aria-label'), e.getBoundingClientRect().width,"
        " e.getBoundingClientRect().height])"
    )
    assert all(w >= 32 and h >= 32 for _, w, h in sizes), sizes
    opacity = actions.first.evaluate(
        "el => { let o = 1; for (let n = el; n; n = n.parentElement)"
        " o *= parseFloat(getComputedStyle(n).opacity); return o; }"
    )
    assert opacity == 1
    # Read in one go: a late push (the title arriving) may re-render the list between reads.
    for _ in range(3):
        page.locator(".bubble[data-role=user] .message-body").click()
        page.keyboard.press("Tab")
        label, ring = page.evaluate(
            "() => { const el = document.activeElement;"
            " return [el?.getAttribute('aria-label'), !!el && el.matches(':focus-visible')"
            " && getComputedStyle(el).outlineStyle !== 'none']; }"
        )
        if label == "Copy message":
            break
    assert (label, ring) == ("Copy message", True)


@SIZES
def test_jump_to_latest_only_with_something_below_and_never_over_the_box(
    page: Page, served_app: ServedApp, size: dict[str, int]
):
    page.set_viewport_size(size)
    ask(page, served_app, "A long answer please [[sim tokens=2500 tps=50000 ttft=0]]")
    jump = page.get_by_role("button", name="Jump to latest", exact=True)
    log = page.locator("#messages")
    page.wait_for_function(
        "(() => { const l = document.getElementById('messages');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight < 80; })()"
    )
    expect(jump).to_be_hidden()  # at the bottom: nothing below

    log.evaluate("el => { el.scrollTop = 0; }")
    expect(jump).to_be_visible()
    jump_box = jump.bounding_box()
    box_top = page.locator(".composer-bar").bounding_box()["y"]
    assert jump_box["y"] + jump_box["height"] <= box_top, (jump_box, box_top)

    page.keyboard.press("Control+Shift+O")  # New chat (its button is in the list)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator(".bubble")).to_have_count(0)
    rendered(page)
    expect(jump).to_be_hidden()  # an empty chat has nothing below
