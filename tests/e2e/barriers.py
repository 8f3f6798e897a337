"""Barriers for negative checks in the browser: instead of waiting a fixed time and then
asserting that something did NOT happen, make something happen that the browser reports
only after whatever was already under way, wait for it, then assert.

- `rendered`: two animation frames, so every DOM change queued before has been committed
  and painted (a React commit, an element's insertion and the loads it starts).
- `requests_settled`: a request the page sends now; Playwright reports a page's requests
  in the order they were sent, so any request the page sent before is already recorded.
- `popups_settled`: a popup the page opens now; pages opened earlier are reported first.
- `transitions_done`: no CSS transition or animation is running.
"""

from __future__ import annotations

from playwright.sync_api import Page

BARRIER = "__e2e_barrier"
_TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def rendered(page: Page) -> None:
    page.evaluate(_TWO_FRAMES)


def requests_settled(page: Page, url: str) -> None:
    """`url`: any address of the page's origin (its answer doesn't matter)."""
    rendered(page)
    marker = f"{url}{'&' if '?' in url else '?'}{BARRIER}"
    with page.expect_request(lambda request: BARRIER in request.url):
        page.evaluate("u => { fetch(u).catch(() => {}); }", marker)


def popups_settled(page: Page) -> Page:
    """Returns the barrier's own popup (closed), which handlers of "page" saw last."""
    rendered(page)
    with page.context.expect_page() as opened:
        page.evaluate(f"() => {{ window.open('about:blank#{BARRIER}', '_blank'); }}")
    popup = opened.value
    popup.close()
    return popup


def transitions_done(page: Page) -> None:
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
