"""Untrusted text in a real browser: hostile model output and user text stay inert; rich
Markdown (code with Copy, tables, lists, math) renders. Model output is injected exactly with
the simulator's ``[[sim echo=1]]``: the reply is the user's message, verbatim."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.accounts import Account, add_session_cookie
from tests.e2e.barriers import popups_settled, requests_settled
from tests.e2e.conftest import ARTIFACTS, ServedApp

ECHO = "[[sim echo=1 tps=400 ttft=0]]"
LEAK_PATH = "/_sim/leak"

# Every element or attribute a payload could smuggle in, anywhere in the document.
INJECTED_JS = """() => ({
  xss: typeof window.__xss,
  scripts: [...document.scripts].filter(s => s.textContent.includes('__xss')).length,
  iframes: document.querySelectorAll('iframe, object, embed, frame').length,
  handlers: document.querySelectorAll('[onerror], [onload], [onclick], [onmouseover]').length,
  badHrefs: [...document.querySelectorAll('[href], [src], [action], [formaction]')]
    .map(e => e.getAttribute('href') ?? e.getAttribute('src') ?? e.getAttribute('action')
              ?? e.getAttribute('formaction'))
    .filter(u => /^\\s*(javascript|data|vbscript):/i.test(u)).length,
})"""
CLEAN = {"xss": "undefined", "scripts": 0, "iframes": 0, "handlers": 0, "badHrefs": 0}


def _payload(leak_url: str) -> str:
    return (
        "Hostile output follows.\n\n"
        "<script>window.__xss=1</script>\n\n"
        '<img src=x onerror="window.__xss=1">\n\n'
        '<iframe src="javascript:window.__xss=1"></iframe>\n\n'
        '<svg onload="window.__xss=1"><circle r="5"/></svg>\n\n'
        'Inline <a href="javascript:window.__xss=1">raw anchor</a> here.\n\n'
        "[click me](javascript:window.__xss=1) "
        "[data link](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==) "
        "[vb link](vbscript:msgbox(1)) [relative](/c/x)\n\n"
        f"![leak alt]({leak_url}?secret=1)\n\n"
        f"Inline ![second]({leak_url}?secret=2) image and "
        f'<img src="{leak_url}?secret=3">.\n\n'
        f"Math: $\\href{{javascript:window.__xss=1}}{{tex link}}$ and "
        f"$\\includegraphics[height=1em]{{{leak_url}?secret=4}}$\n\n"
        "End of payload."
    )


REPLY_TIMEOUT_MS = 30_000


@pytest.fixture
def errors(page: Page) -> Iterator[list[str]]:
    """Uncaught JavaScript errors on the shared `page`; none may happen."""
    seen: list[str] = []
    page.on("pageerror", lambda exc: seen.append(str(exc)))
    yield seen
    assert not seen, f"JavaScript errors on the page: {seen}"


@pytest.fixture
def clip_context(browser: Any, served_app: ServedApp, user: Account) -> Iterator[BrowserContext]:
    """Like the shared `page` fixture's context (signed in as this test's user), plus
    clipboard access."""
    context = browser.new_context(
        viewport={"width": 1100, "height": 1400},  # tall: the whole reply fits the screenshot
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(15_000)
    add_session_cookie(context, served_app, user.token)
    yield context
    context.close()


@pytest.fixture
def clip_page(clip_context: BrowserContext) -> Iterator[Page]:
    page = clip_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert not errors, f"JavaScript errors on the page: {errors}"


def _open(page: Page, app: ServedApp) -> None:
    page.goto(app.url("/"))
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=30_000)


def _send(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def _complete(page: Page) -> Locator:
    return page.locator('.bubble[data-role="assistant"][data-status="complete"]')


def _watch_leaks(page: Page) -> list[str]:
    leaked: list[str] = []
    page.on("request", lambda r: leaked.append(r.url) if LEAK_PATH in r.url else None)
    return leaked


def _body(page: Page, role: str) -> Locator:
    return page.locator(f'.bubble[data-role="{role}"]:not(#live-reply) .message-body').last


def _bubble_of(body: Locator) -> Locator:
    return body.locator("xpath=ancestor::*[contains(@class, 'bubble')][1]")


def _assert_inert(page: Page, leaked: list[str]) -> None:
    assert page.evaluate(INJECTED_JS) == CLEAN
    assert leaked == [], f"the page requested {leaked}"


def test_hostile_model_output_is_inert_text(page: Page, served_app: ServedApp, errors):
    leaked = _watch_leaks(page)
    popups: list[Page] = []
    page.context.on("page", lambda p: popups.append(p))
    leak_url = served_app.url(LEAK_PATH)
    payload = _payload(leak_url)
    _open(page, served_app)
    _send(page, f"{payload} {ECHO}")
    expect(_complete(page)).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    body = _body(page, "assistant")
    expect(body).to_contain_text("End of payload.")
    _assert_inert(page, leaked)

    # The markup is shown as text, not interpreted.
    text = body.inner_text()
    for fragment in (
        "<script>window.__xss=1</script>",
        '<img src=x onerror="window.__xss=1">',
        '<iframe src="javascript:window.__xss=1"></iframe>',
        '<svg onload="window.__xss=1">',
        '<a href="javascript:window.__xss=1">raw anchor</a>',
    ):
        assert fragment in text, fragment
    assert body.locator("script, iframe, img, svg, object, embed, a").count() == 0, (
        "no element from the payload (the only http(s) link is absent, so no <a> at all)"
    )

    # Unsafe and relative links are plain text; clicking one does nothing.
    blocked = body.locator(".md-link-blocked")
    expect(blocked).to_have_text(["click me", "data link", "vb link", "relative"])
    url_before = page.url
    blocked.first.click()  # a navigation it started would be waited for by click()
    blocked.nth(2).click()
    barrier = popups_settled(page)
    assert page.url == url_before and popups == [barrier]

    # Images are placeholders that show alt text and URL; nothing is fetched.
    images = body.locator(".md-image")
    expect(images).to_have_count(2)
    expect(images.first).to_contain_text("leak alt")
    expect(images.first).to_contain_text(f"{leak_url}?secret=1")
    expect(images.nth(1)).to_contain_text("second")
    assert f'<img src="{leak_url}?secret=3">' in text

    # KaTeX refuses \href / \includegraphics (trust is off): no link, no image.
    expect(body.locator(".katex")).not_to_have_count(0)
    page.set_viewport_size({"width": 1100, "height": 1400})
    _bubble_of(body).screenshot(path=str(ARTIFACTS / "xss.png"))

    # The stored message (rendered from history, not the live stream) is just as inert.
    page.reload()
    expect(_complete(page)).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(_body(page, "assistant")).to_contain_text("End of payload.")
    expect(_body(page, "assistant").locator(".md-image")).to_have_count(2)
    requests_settled(page, served_app.url("/ping"))
    _assert_inert(page, leaked)


def test_hostile_user_text_is_shown_verbatim(page: Page, served_app: ServedApp, errors):
    leaked = _watch_leaks(page)
    payload = _payload(served_app.url(LEAK_PATH))
    _open(page, served_app)
    _send(page, f"{payload} [[sim tokens=120 tps=400 ttft=0]]")
    expect(_complete(page)).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    user = _body(page, "user")
    # The user's bubble is plain text: every character as typed, no Markdown, no HTML.
    assert user.inner_text() == f"{payload} [[sim tokens=120 tps=400 ttft=0]]"
    assert user.locator("*").count() == 0
    # The simulator quotes the prompt in its reply: model output that contains the payload.
    expect(_body(page, "assistant")).to_contain_text("You wrote:")
    requests_settled(page, served_app.url("/ping"))
    _assert_inert(page, leaked)
    page.reload()
    expect(_body(page, "user")).to_contain_text("End of payload.", timeout=15_000)
    requests_settled(page, served_app.url("/ping"))
    _assert_inert(page, leaked)


CODE = 'def greet(name: str) -> str:\n    return f"<b>Hello</b>, {name}!"  # not HTML'
RICH = (
    "## Rich reply\n\n"
    "Steps:\n\n- first\n- second with `inline code`\n- third\n\n"
    "1. one\n2. two\n\n"
    "| Name | Score |\n|:-----|------:|\n| Ada | 10 |\n| Linus | 7 |\n\n"
    f"```python\n{CODE}\n```\n\n"
    "```\nplain block\n```\n\n"
    # remark-math: `$$` alone on its lines is display math; `$…$` is inline.
    "Euler: $e^{i\\pi} + 1 = 0$ and\n\n$$\n\\int_0^1 x\\,dx = \\frac{1}{2}\n$$\n\n"
    "A [safe link](https://example.com/docs) and ~~struck~~ text."
)


def test_rich_markdown_renders_and_code_copies(
    clip_page: Page, clip_context: BrowserContext, served_app: ServedApp
):
    page = clip_page
    _open(page, served_app)
    _send(page, f"{RICH} {ECHO}")
    expect(_complete(page)).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    body = _body(page, "assistant")

    expect(body.locator("h2")).to_have_text("Rich reply")
    expect(body.locator("ul > li")).to_have_count(3)
    expect(body.locator("ol > li")).to_have_count(2)
    expect(body.locator("code").filter(has_text="inline code")).to_have_count(1)
    table = body.locator("table")
    expect(table).to_have_count(1)
    expect(table.locator("th")).to_have_text(["Name", "Score"])
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first.locator("td")).to_have_text(["Ada", "10"])
    expect(body.locator("del")).to_have_text("struck")
    expect(body.locator(".katex")).to_have_count(2)
    expect(body.locator(".katex-display")).to_have_count(1)

    link = body.get_by_role("link", name="safe link")
    expect(link).to_have_attribute("href", "https://example.com/docs")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")

    # Highlighted (Prism tokens, loaded async), and the code's "<b>" is text, not markup.
    expect(body.locator("pre").first.locator(".token").first).to_be_visible(timeout=10_000)
    assert body.locator("pre").first.locator(".token").count() > 5
    expect(body.locator("b")).to_have_count(0)
    copy = body.get_by_role("button", name="Copy code", exact=True)
    expect(copy).to_have_count(2)
    _bubble_of(body).screenshot(path=str(ARTIFACTS / "rich.png"))

    # Copy is client-side: it works even with the network gone.
    clip_context.set_offline(True)
    copy.first.click()
    expect(copy.first).to_have_attribute("data-copied", "true")
    assert page.evaluate("navigator.clipboard.readText()") == CODE
    copy.nth(1).click()
    assert page.evaluate("navigator.clipboard.readText()") == "plain block"
    clip_context.set_offline(False)


def test_a_code_fence_with_nothing_in_it_yet_renders_empty(page: Page, served_app: ServedApp):
    # What a reply cut off by max_tokens right after "```" (or streaming into a new block) holds.
    _open(page, served_app)
    _send(page, f"Before the code:\n\n```python\n {ECHO}")
    expect(_complete(page)).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    body = _body(page, "assistant")
    expect(body.locator("pre")).to_have_count(1)
    expect(body).to_contain_text("Before the code:")
    assert "undefined" not in body.inner_text()
