"""The app as `make run` serves it with no API key: the built-in simulator runs in a process
of its own (ai_chat/ops/simulator_process.py: API-only, on a loopback port), so nothing of it
is served on the app's port (its records of every prompt and its control routes least of
all); the header says "Simulator"; a simulated reply shows its tokens but no price, and so
does the conversation.

`builtin_app` runs with AI_CHAT_AUTH=none (no sign-in): the same app as `served_app` but for
the key. Its event socket still refuses other origins.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .chat_page import ASSISTANT, REPLY_TIMEOUT_MS, open_chat, send_with_enter
from .conftest import ServedApp
from .test_origins_browser import EVIL, handshake

pytestmark = pytest.mark.browser

PRICE = re.compile(r"\$\s?\d")


def _status(url: str, method: str = "GET", origin: str = EVIL) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, method=method, headers={"Origin": origin})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_sim/_records"),
        ("GET", "/_sim/_records?tag=x"),
        ("DELETE", "/_sim/_records"),
        ("GET", "/_sim/health"),
    ],
)
def test_the_simulators_records_and_controls_are_not_served(
    builtin_app: ServedApp, method: str, path: str
):
    status, headers = _status(builtin_app.url(path), method)
    assert status == 404
    # Nothing here lets another origin read an answer. (Reflex's CORS middleware wraps the
    # whole app and adds `access-control-allow-credentials` to any answer to a request with
    # an Origin; without `access-control-allow-origin` a browser gives the page nothing.)
    assert "access-control-allow-origin" not in headers


def test_its_socket_refuses_other_origins_too(builtin_app: ServedApp):
    assert handshake(builtin_app.port, EVIL)[0] in (400, 403)
    assert handshake(builtin_app.port, f"http://localhost:{builtin_app.port}")[0] == 101


@pytest.fixture
def builtin_page(browser: Any) -> Iterator[Page]:
    """A fresh context for `builtin_app` (no accounts there: AI_CHAT_AUTH=none)."""
    expect.set_options(timeout=15_000)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_badge_and_a_simulated_reply_without_a_price(builtin_page: Page, builtin_app: ServedApp):
    page = builtin_page
    open_chat(page, builtin_app)
    expect(page.locator("#simulator-badge")).to_have_text("Simulator")
    send_with_enter(page, "What does this cost? [[sim tokens=40 tps=400 ttft=0]]")
    reply = page.locator(f'{ASSISTANT}[data-status="complete"]')
    expect(reply).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    usage = reply.locator(".usage")
    expect(usage).to_contain_text(re.compile(r"\d+ in · \d+ out"))  # the usage still shows
    expect(usage).not_to_contain_text("$")
    expect(page.get_by_text(PRICE)).to_have_count(0)  # nowhere: not the header's total either

    page.reload()  # the stored reply, rendered from history
    expect(reply).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator("#simulator-badge")).to_have_text("Simulator")
    expect(reply.locator(".usage")).to_contain_text(" out")
    expect(page.get_by_text(PRICE)).to_have_count(0)
