"""A second tab on a streaming conversation, in a real browser: the reply grows live there,
its Stop works, both tabs show the end, and a message sent from it is refused with the
text kept. On the single-worker default (`served_app`), and on 3 workers + Redis +
PostgreSQL (the second tabs' sockets land on any worker; Stop and the live frames cross).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ai_chat.store.migrations import upgrade
from tests.conftest import fresh_postgres, service_missing
from tests.support import servers
from tests.support.redis_db import flush, free_db

from .accounts import add_session_cookie
from .chat_page import (
    ASSISTANT,
    LIVE,
    USER,
    body,
    button,
    composer,
    conversation_id,
    open_chat,
    send_with_enter,
    unique_tag,
    wait_streamed,
)
from .conftest import ARTIFACTS, ServedApp

pytestmark = pytest.mark.browser

LONG = "tps=15 tokens=2000"


def live_length(page: Page) -> int:
    return page.evaluate(
        "() => document.querySelector('#live-reply .message-body')?.innerText.length ?? 0"
    )


def open_second(first: Page, app: ServedApp, cid: str) -> Page:
    """Another tab of the same browser (same session cookie, its own Reflex token)."""
    second = first.context.new_page()
    second.goto(app.url(f"/c/{cid}"))
    expect(second.locator(USER)).to_have_count(1)
    return second


def sees_it_live_and_stops_it(first: Page, app: ServedApp, seconds: list[Page]) -> None:
    open_chat(first, app)
    tag = unique_tag("second-tab")
    send_with_enter(first, f"Tell me a long story [[sim {LONG} tag={tag}]]")
    wait_streamed(first, 20)
    cid = conversation_id(first)
    tabs = [open_second(first, app, cid) for _ in range(len(seconds))]
    for tab in tabs:
        expect(button(tab, "Stop")).to_be_visible()  # not Send: the reply is running
        wait_streamed(tab, live_length(tab) + 30)  # it grows there, live
    seconds[:] = tabs
    button(tabs[-1], "Stop").click()
    for tab in [first, *tabs]:
        reply = tab.locator(ASSISTANT)
        expect(reply).to_have_attribute("data-status", "cancelled")
        expect(tab.locator(LIVE)).to_have_count(0)
        expect(button(tab, "Send")).to_be_enabled()
    texts = {body(tab.locator(ASSISTANT)) for tab in [first, *tabs]}
    assert len(texts) == 1, texts  # every tab shows the stored partial reply
    (record,) = app.wait_for_records(
        tag, lambda rs: len(rs) == 1 and rs[0]["disconnected_at"] is not None
    )
    assert record["tokens_sent"] < 2000


def test_a_second_tab_sees_the_reply_live_and_stops_it(page: Page, served_app: ServedApp):
    sees_it_live_and_stops_it(page, served_app, [page])


def test_every_tab_shows_the_end_and_send_comes_back(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    send_with_enter(page, "A short one [[sim tps=20 tokens=80]]")
    wait_streamed(page, 10)
    second = open_second(page, served_app, conversation_id(page))
    expect(second.locator(LIVE)).to_have_count(1)
    for tab in (page, second):
        expect(tab.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
        expect(button(tab, "Send")).to_be_enabled()
    assert body(second.locator(ASSISTANT)) == body(page.locator(ASSISTANT))


def test_a_message_from_the_second_tab_is_refused_and_kept(page: Page, served_app: ServedApp):
    open_chat(page, served_app)
    send_with_enter(page, f"Keep going [[sim {LONG}]]")
    wait_streamed(page, 20)
    second = open_second(page, served_app, conversation_id(page))
    expect(button(second, "Stop")).to_be_visible()
    composer(second).fill("Me too")
    composer(second).press("Enter")
    expect(second.get_by_text("still streaming in this conversation")).to_be_visible()
    expect(composer(second)).to_have_value("Me too")
    expect(second.locator(USER)).to_have_count(1)
    button(page, "Stop").click()
    expect(second.locator(ASSISTANT)).to_have_attribute("data-status", "cancelled")


# --- 3 workers + Redis + PostgreSQL ---------------------------------------------------------


@pytest.fixture(scope="module")
def cluster_app(served_app: ServedApp) -> Iterator[ServedApp]:
    """The app on 3 workers sharing Redis (a database of its own) and PostgreSQL, talking
    to the same standalone simulator as `served_app` (its records are read the same way)."""
    try:
        db = free_db()
    except Exception as exc:  # noqa: BLE001
        service_missing("Redis at 127.0.0.1:6379", exc)
    with fresh_postgres("ai_chat_e2e") as pg_url:
        upgrade(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with servers.app_server(
                "e2e-cluster",
                ARTIFACTS / "cluster",
                served_app.sim_url,
                pg_url,
                redis_url=f"redis://127.0.0.1:6379/{db}",
                workers=3,
                extra_env={"REFLEX_IGNORE_REDIS_CONFIG_ERROR": "1"},
            ) as (port, proc):
                base = f"http://127.0.0.1:{port}"
                reads = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)  # tests'
                yield ServedApp(
                    base, port, reads, proc.log_path, proc.popen.pid, served_app.sim_url
                )
        finally:
            flush(db)


@pytest.fixture(scope="module")
def cluster_accounts(cluster_app: ServedApp) -> Any:
    from .test_workers_browser import ServerAccounts

    return ServerAccounts(cluster_app)


def _cluster_page(browser: Any, app: ServedApp, accounts: Any) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    add_session_cookie(context, app, accounts.new_user("cluster").token)
    return context.new_page()


@pytest.mark.postgres
@pytest.mark.redis
def test_with_3_workers_second_tabs_see_it_live_and_stop_it(
    browser: Any, cluster_app: ServedApp, cluster_accounts: Any
):
    first = _cluster_page(browser, cluster_app, cluster_accounts)
    try:
        # Three more tabs: their sockets land on the workers as Granian spreads them.
        sees_it_live_and_stops_it(first, cluster_app, [first, first, first])
        first.screenshot(path=str(ARTIFACTS / "cluster-second-tabs.png"))
    finally:
        first.context.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_with_3_workers_a_tab_whose_worker_dies_is_not_stuck(
    browser: Any, cluster_app: ServedApp, cluster_accounts: Any
):
    """kill -9 of the worker streaming the tab's reply (with Redis, the tab's state
    survives and says "generating"): within seconds the tab shows the reply Interrupted,
    with its text up to the last checkpoint, and Send is back."""
    from .test_workers_browser import grew, streams_per_worker, until

    app = cluster_app
    sim_port = int(app.sim_url.rsplit(":", 1)[1])
    page = _cluster_page(browser, app, cluster_accounts)
    try:
        open_chat(page, app)
        before = streams_per_worker(app.pid, sim_port)
        send_with_enter(page, f"Stream on [[sim {LONG} tag={unique_tag('victim')}]]")
        wait_streamed(page, 20)
        after = until(lambda: grew(streams_per_worker(app.pid, sim_port), before), 15, "stream")
        (victim,) = [pid for pid, n in after.items() if n > before.get(pid, 0)]
        wait_streamed(page, live_length(page) + 40)  # past a checkpoint
        seen = live_length(page)
        os.kill(victim, signal.SIGKILL)
        reply = page.locator(ASSISTANT)
        expect(reply).to_have_attribute("data-status", "interrupted", timeout=30_000)
        expect(page.locator(LIVE)).to_have_count(0)
        expect(button(page, "Send")).to_be_enabled()
        assert len(body(reply)) >= seen - 40  # up to the last checkpoint
    finally:
        page.context.close()
