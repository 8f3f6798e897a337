"""Accessibility checked by axe-core (WCAG 2 A/AA rules, colour contrast included) in light and
dark mode, at phone and laptop width (with tables, code and quotes in a reply), plus the polite
live region and a reload mid-stream."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import service_missing
from tests.e2e.barriers import transitions_done
from tests.e2e.chat_page import open_chat, send_with_enter
from tests.e2e.conftest import ARTIFACTS, ROOT, ServedApp
from tests.e2e.test_phone_browser import LAPTOP, PHONE
from tests.e2e.test_polish_browser import RICH_REPLY, set_theme

AXE = ROOT / ".tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _axe(page: Page, name: str) -> list[dict]:
    # Toasts fade in; measuring mid-animation would blend their colours.
    page.wait_for_function(
        "[...document.querySelectorAll('[data-sonner-toast]')]"
        ".every(t => getComputedStyle(t).opacity === '1')"
    )
    if not AXE.exists():
        service_missing("axe-core", f"{AXE} missing (make test installs it)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA,
    )
    violations = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": [{"target": n["target"], "why": n["failureSummary"]} for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
    Path(ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(violations, indent=2))
    return violations


def _conversation(page: Page, served_app: ServedApp) -> None:
    open_chat(page, served_app)
    send_with_enter(page, "Accessible? [[sim tokens=160 tps=400 ttft=0]]")
    expect(page.locator('.bubble[data-role="assistant"][data-status="complete"]')).to_have_count(1)
    send_with_enter(page, "Fail on purpose [[sim error=529 retry_after=30]]")
    expect(page.locator('.bubble[data-status="failed"]')).to_have_count(1)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_wcag_aa_violations(page: Page, served_app: ServedApp, theme: str):
    _conversation(page, served_app)
    if theme == "dark":
        page.get_by_role("button", name="Toggle dark mode", exact=True).click()
        page.wait_for_function("document.documentElement.classList.contains('dark')")
    transitions_done(page)  # the theme's colour transition has settled before measuring
    assert _axe(page, theme) == []


def test_no_violations_at_phone_width_with_the_list_open(page: Page, served_app: ServedApp):
    page.set_viewport_size({"width": 390, "height": 800})
    _conversation(page, served_app)
    page.get_by_role("button", name="Show conversations", exact=True).click()
    expect(page.get_by_role("button", name="Hide conversations", exact=True)).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "phone-list.png"))
    assert _axe(page, "phone") == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_violations_at_phone_width_with_the_actions_menu_open(
    page: Page, served_app: ServedApp, theme: str
):
    page.set_viewport_size(PHONE)
    _conversation(page, served_app)
    set_theme(page, theme)
    page.get_by_role("button", name="More actions", exact=True).click()
    expect(page.get_by_role("menu")).to_be_visible()
    transitions_done(page)
    assert _axe(page, f"phone-menu-{theme}") == []


def test_status_is_announced_politely_not_per_token(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    page.evaluate(
        """() => {
          window.__announcements = [];
          new MutationObserver(() => window.__announcements.push(
            document.getElementById('announcer').textContent))
            .observe(document.getElementById('announcer'),
                     {childList: true, subtree: true, characterData: true});
        }"""
    )
    send_with_enter(page, "Announce me [[sim tokens=200 tps=100 ttft=0.3]]")
    expect(page.locator('.bubble[data-role="assistant"][data-status="complete"]')).to_have_count(1)
    expect(announcer).to_contain_text("Claude replied:")
    announced = page.evaluate("window.__announcements")
    assert len(announced) <= 5, announced  # 200 tokens, a handful of announcements


def test_reload_mid_stream_keeps_streaming(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    send_with_enter(page, "Survive a reload [[sim tokens=300 tps=60 ttft=0]]")
    page.wait_for_function(
        "document.querySelector('#live-reply .message-body')?.innerText.length > 80"
    )
    page.reload()
    expect(page.locator("#live-reply")).to_be_visible()  # the same tab token: still streaming
    done = page.locator('.bubble[data-role="assistant"][data-status="complete"]')
    expect(done).to_have_count(1, timeout=30_000)
    expect(page.locator('.bubble[data-role="user"]')).to_have_count(1)


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_violations_with_tables_code_and_quotes(
    page: Page, served_app: ServedApp, theme: str, size: dict[str, int]
):
    """A conversation open at both sizes, in both themes: a reply with a table that scrolls,
    labelled code blocks and a blockquote, and a failed reply."""
    page.set_viewport_size(size)
    open_chat(page, served_app)
    send_with_enter(page, "[[sim echo=1 tps=5000 ttft=0]]\n" + RICH_REPLY)
    expect(page.locator(".md-table")).to_have_count(1)
    expect(page.locator('.bubble[data-role="assistant"][data-status="complete"]')).to_have_count(1)
    send_with_enter(page, "Fail on purpose [[sim error=529 retry_after=30]]")
    expect(page.locator('.bubble[data-status="failed"]')).to_have_count(1)
    set_theme(page, theme)
    assert _axe(page, f"rich-{theme}-{size['width']}") == []
