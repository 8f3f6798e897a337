"""Redis killed mid-reply, in a real browser, against the app as served with 2 workers, a
Redis server of the test's own (never the shared one) and PostgreSQL.

The reply is stored (complete or failed, with its text), the page says the service is
degraded while Redis is gone, and once Redis is back (empty: a restart without
persistence, or from its append-only file) the banner goes and the same tab sends a new
turn without a reload."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import Session

from ai_chat.auth.identity import SESSION_COOKIE
from ai_chat.reflex_redis import REDIS_DOWN_TOAST
from ai_chat.store import users as user_store
from ai_chat.store.migrations import upgrade
from tests.conftest import service_missing, sync_url
from tests.redis_outage.own_redis import OwnRedis
from tests.support import servers

from .accounts import PASSWORD, _hasher, post_form, sign_in
from .chat_page import ASSISTANT, button, conversation_id, open_chat, send_with_enter, wait_streamed
from .conftest import ARTIFACTS, ServedApp
from .test_accessibility_browser import AXE, WCAG_AA

pytestmark = [pytest.mark.browser, pytest.mark.redis]  # its own redis-server

BANNER = "#degraded-banner"
WORKERS = 2
STORED_TIMEOUT_S = 60.0


@pytest.fixture(params=["empty", "persistent"])
def outage_app(
    request: pytest.FixtureRequest, postgres_url: str, tmp_path: Path
) -> Iterator[tuple[ServedApp, OwnRedis]]:
    """`empty`: Redis comes back without data (the tab's state is gone); `persistent`: with
    its append-only file, so the tab's state comes back as it was when Redis died."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    upgrade(sync_url(postgres_url))
    redis = OwnRedis(tmp_path / "redis", persist=request.param == "persistent")
    redis.start()
    try:
        with (
            servers.simulator(ARTIFACTS) as (sim_url, _sim),
            servers.app_server(
                "e2e-redis-outage",
                ARTIFACTS,
                sim_url,
                postgres_url,
                redis_url=redis.url,
                workers=WORKERS,
                extra_env={"AI_CHAT_PUSH_INTERVAL_MS": "50"},
            ) as (port, proc),
        ):
            base = f"http://127.0.0.1:{port}"
            log = ARTIFACTS / "e2e-redis-outage.log"
            app = ServedApp(base, port, sync_url(postgres_url), log, proc.popen.pid, sim_url)
            yield app, redis
    finally:
        redis.kill()


def _signed_in_page(browser: Any, app: ServedApp) -> tuple[Any, Page]:
    answer = post_form(app, "/_auth/setup", {"username": "admin", "password": PASSWORD})
    assert answer.status == 303, answer
    engine = sa.create_engine(app.db_url, poolclass=sa.pool.NullPool)
    try:
        with Session(engine) as session:
            user_store.create_user(session, "outage", _hasher.hash(PASSWORD))
            session.commit()
    finally:
        engine.dispose()
    token = sign_in(app, "outage", PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    host = urllib.parse.urlsplit(app.base_url).hostname
    cookie = {"name": SESSION_COOKIE, "value": token, "domain": host, "path": "/"}
    context.add_cookies([{**cookie, "httpOnly": True, "sameSite": "Lax"}])
    return context, context.new_page()


def _banner_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core on the banner alone (the rest of the page is tests/e2e's accessibility
    suite's)."""
    if not AXE.exists():
        service_missing("axe-core", f"{AXE} missing (make test installs it)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async ([sel, tags]) => await axe.run(sel, {runOnly: {type: 'tag', values: tags}})",
        [BANNER, WCAG_AA],
    )
    return [{"id": v["id"], "nodes": [n["failureSummary"] for n in v["nodes"]]} for v in
            result["violations"]]  # fmt: skip


def _rows(app: ServedApp, cid: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(app.db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT role, status, content FROM message WHERE conversation_id = :c "
                        "ORDER BY seq"),
                {"c": cid},
            )  # fmt: skip
            return [dict(r._mapping) for r in rows]
    finally:
        engine.dispose()


def _wait_rows(app: ServedApp, cid: str, done, what: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + STORED_TIMEOUT_S
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = _rows(app, cid)
        if done(rows):
            return rows
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; rows: {rows}")


def test_redis_killed_mid_reply(browser: Any, outage_app: tuple[ServedApp, OwnRedis]):
    app, redis = outage_app
    context, page = _signed_in_page(browser, app)
    try:
        expect.set_options(timeout=20_000)
        open_chat(page, app)
        send_with_enter(page, "A long story please [[sim tokens=240 tps=20 ttft=0]]")
        wait_streamed(page, 30)
        cid = conversation_id(page)

        redis.kill()
        killed_at = time.monotonic()
        banner = page.locator(BANNER)
        expect(banner).to_be_visible()
        timings = {"kill_to_banner_s": time.monotonic() - killed_at}
        expect(banner).to_contain_text("degraded")
        page.screenshot(path=str(ARTIFACTS / "redis-outage-banner.png"))
        assert _banner_violations(page) == []  # WCAG AA (contrast…), as every page's parts
        # The tab's own reply task can't write its state once the worker's lease on it ends
        # (opportunistic lock: seconds): it says why plainly, not "An error occurred".
        toast = page.get_by_text(REDIS_DOWN_TOAST)
        expect(toast).to_be_visible()
        expect(page.get_by_text("An error occurred")).to_have_count(0)

        # The reply runs to its end and is stored, complete or failed, with its text.
        final = ("complete", "failed")
        rows = _wait_rows(
            app,
            cid,
            lambda r: len(r) == 2 and r[1]["status"] in final,
            "the reply stored",
        )
        assert rows[1]["content"], rows
        timings["kill_to_reply_stored_s"] = time.monotonic() - killed_at
        # A tab opened during the outage can't load its state (it is in Redis): it is told
        # too (the worker repeats the news to its sockets every few seconds).
        late = context.new_page()
        late.goto(app.url(f"/c/{cid}"))
        expect(late.locator(BANNER)).to_be_visible()

        redis.start()  # the same port; empty, or with the data it had
        started_at = time.monotonic()
        expect(banner).to_be_hidden(timeout=30_000)
        timings["restart_to_banner_gone_s"] = time.monotonic() - started_at
        expect(toast).to_have_count(0)
        # The tab recovers without a reload (its state rebuilt from the database, or the
        # stale one settled from it): the stored reply is shown, Send is back, and a new
        # turn works in the same conversation.
        expect(page.locator(ASSISTANT)).to_have_count(1)
        expect(button(page, "Send")).to_be_enabled()
        timings["restart_to_send_enabled_s"] = time.monotonic() - started_at
        # The late tab too: its conversation shows, without a reload.
        expect(late.locator(BANNER)).to_be_hidden()
        expect(late.locator(ASSISTANT)).to_have_count(1)
        expect(button(late, "Send")).to_be_enabled()
        late.close()
        send_with_enter(page, "And now? [[sim tokens=8 ttft=0]]")
        rows = _wait_rows(
            app,
            cid,
            lambda r: len(r) == 4 and r[3]["status"] == "complete",
            "the turn after the outage",
        )
        assert [r["role"] for r in rows] == ["user", "assistant", "user", "assistant"]
        expect(page.locator(ASSISTANT)).to_have_count(2)
        # And Stop works again (the issue: a Stop that did nothing until a reload).
        send_with_enter(page, "Once more, at length [[sim tokens=2000 tps=20 ttft=0]]")
        wait_streamed(page, 10)
        button(page, "Stop").click()
        expect(page.locator(ASSISTANT).last).to_have_attribute("data-status", "cancelled")
        rows = _wait_rows(
            app, cid, lambda r: len(r) == 6 and r[5]["status"] == "cancelled", "the stopped turn"
        )
        expect(button(page, "Send")).to_be_enabled()
        page.screenshot(path=str(ARTIFACTS / f"redis-outage-after-{redis.persist}.png"))
        # Figures for the record (not asserted: wall-clock on a shared machine).
        name = f"redis-outage-timings-{'persistent' if redis.persist else 'empty'}.json"
        (ARTIFACTS / name).write_text(json.dumps(timings, indent=1))
    except BaseException:
        for n, shown in enumerate(context.pages):
            with contextlib.suppress(Exception):
                failed = ARTIFACTS / f"redis-outage-failed-{redis.persist}-{n}.png"
                shown.screenshot(path=str(failed))
        raise
    finally:
        with contextlib.suppress(Exception):
            context.close()
