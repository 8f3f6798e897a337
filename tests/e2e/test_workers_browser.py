"""Workers that heal, for real: 3 workers + Redis + PostgreSQL, served by the start script
as tests/support/servers.py deploys them, and one worker killed with `kill -9` mid-reply.

Replies streaming on the other workers go on to their end (in the browser, the simulator
and the database), Granian spawns a new worker, and the app keeps serving new turns.
Which worker streams a tab's reply is read from the workers' TCP connections to the
simulator (one per reply in flight), not guessed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest
import redis
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from ai_chat.simulator.options import strip_directives
from ai_chat.simulator.script import reply_text
from tests.conftest import REDIS_URL, service_missing, sync_url
from tests.support import servers

from .accounts import Account, Accounts, add_session_cookie
from .chat_page import (
    ASSISTANT,
    LIVE,
    conversation_id,
    open_chat,
    send_with_enter,
    stored_messages,
    unique_tag,
)
from .conftest import ARTIFACTS, ServedApp

pytestmark = [pytest.mark.browser, pytest.mark.redis]  # + postgres_url

TOKENS = 600  # at 30 tokens/s: 20 s, long enough to open the tabs and kill a worker
LONG = f"[[sim tokens={TOKENS} tps=30 ttft=0 tag={{tag}}]]"
MAX_TABS = 9


class ServerAccounts(Accounts):
    """The e2e accounts, on the PostgreSQL database (no SQLite connect arguments)."""

    def _engine(self) -> sa.Engine:
        return sa.create_engine(self.app.db_url, poolclass=sa.pool.NullPool)


@dataclasses.dataclass
class Tab:
    page: Page
    tag: str
    text: str  # what was sent
    tokens: int  # the reply's length
    worker: int = 0  # pid of the worker streaming its reply


def until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return value


def workers_of(supervisor_pid: int) -> list[psutil.Process]:
    """Granian's workers: the supervisor's forked children (same command line)."""
    try:
        root = psutil.Process(supervisor_pid)
        return [c for c in root.children() if c.cmdline() == root.cmdline()]
    except psutil.Error:
        return []


def streams_per_worker(supervisor_pid: int, sim_port: int) -> dict[int, int]:
    counts = {}
    for worker in workers_of(supervisor_pid):
        try:
            conns = worker.net_connections(kind="tcp")
        except psutil.Error:
            continue
        counts[worker.pid] = sum(
            1
            for c in conns
            if c.status == psutil.CONN_ESTABLISHED and c.raddr and c.raddr.port == sim_port
        )
    return counts


def grew(now: dict[int, int], before: dict[int, int]) -> dict[int, int] | None:
    return now if sum(now.values()) > sum(before.values()) else None


@pytest.fixture
def three_workers(postgres_url: str) -> Iterator[ServedApp]:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {REDIS_URL}", exc)
    db_url = sync_url(postgres_url)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (
        servers.simulator(ARTIFACTS) as (sim_url, _sim),
        servers.app_server(
            "workers-e2e",
            ARTIFACTS,
            sim_url,
            db_url,
            redis_url=REDIS_URL,
            workers=3,
            extra_env={"AI_CHAT_PUSH_INTERVAL_MS": "50"},
        ) as (port, proc),
    ):
        base = f"http://127.0.0.1:{port}"
        yield ServedApp(base, port, db_url, proc.log_path, proc.popen.pid, sim_url)


def open_tab(browser: Any, app: ServedApp, account: Account) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    add_session_cookie(context, app, account.token)
    page = context.new_page()
    open_chat(page, app)
    return page


def wait_complete(app: ServedApp, page: Page, tab: Tab) -> None:
    """The whole reply: in the page, from the simulator, and in the database."""
    expect(page.locator(LIVE)).to_be_hidden(timeout=60_000)
    reply = page.locator(ASSISTANT).last
    expect(reply).to_have_attribute("data-status", "complete")
    (record,) = app.sim_records(tab.tag)
    assert record["outcome"] == "complete" and record["tokens_sent"] == tab.tokens, record
    rows = stored_messages(app, conversation_id(page))
    assert rows[-1]["status"] == "complete"
    assert rows[-1]["content"] == reply_text(strip_directives(tab.text), tab.tokens)


def test_killing_one_of_three_workers_spares_the_others(browser: Any, three_workers: ServedApp):
    app = three_workers
    accounts = ServerAccounts(app)
    sim_port = urllib.parse.urlsplit(app.sim_url).port
    assert sim_port is not None
    first_workers = until(lambda: workers_of(app.pid), 30, "3 workers")
    assert len(first_workers) == 3

    # Tabs one by one, each streaming a long reply, until two workers stream some.
    tabs: list[Tab] = []
    while len({tab.worker for tab in tabs}) < 2:
        assert len(tabs) < MAX_TABS, f"{MAX_TABS} replies all on one worker"
        before = streams_per_worker(app.pid, sim_port)
        page = open_tab(browser, app, accounts.new_user("heal"))
        tag = unique_tag("heal")
        tab = Tab(page, tag, f"Stream on {LONG.format(tag=tag)}", TOKENS)
        send_with_enter(page, tab.text)
        app.wait_for_records(tag, lambda r: r and r[0]["outcome"] == "streaming", what="stream")
        after = until(
            lambda b=before: grew(streams_per_worker(app.pid, sim_port), b),
            15,
            "the worker's connection to the simulator",
        )
        (tab.worker,) = [pid for pid, n in after.items() if n > before.get(pid, 0)]
        tabs.append(tab)

    victim = tabs[-1].worker
    survivors = [tab for tab in tabs if tab.worker != victim]
    still_streaming = [
        tab for tab in survivors if app.sim_records(tab.tag)[0]["outcome"] == "streaming"
    ]
    assert still_streaming, "a survivor's reply ended before the kill: make replies longer"
    os.kill(victim, signal.SIGKILL)

    # Replies on the other workers stream on to their end, in the page and the database.
    for tab in still_streaming:
        wait_complete(app, tab.page, tab)

    # Granian replaced the dead worker; the supervisor (the app) never stopped.
    old = {w.pid for w in first_workers}

    def replaced() -> list[psutil.Process] | None:
        now = workers_of(app.pid)
        return now if len(now) == 3 and {w.pid for w in now} != old else None

    renewed = until(replaced, 60, "a new worker")
    assert victim not in {w.pid for w in renewed}
    assert psutil.Process(app.pid).is_running()

    # And it keeps serving new turns (and says it is healthy).
    for _ in range(2):
        page = open_tab(browser, app, accounts.new_user("after"))
        tag = unique_tag("after")
        tab = Tab(page, tag, f"After the crash [[sim tokens=20 tps=400 ttft=0 tag={tag}]]", 20)
        send_with_enter(page, tab.text)
        wait_complete(app, page, tab)
    with urllib.request.urlopen(app.url("/health"), timeout=10) as answer:
        assert answer.status == 200
        health = json.loads(answer.read())
    assert health["db"]["ok"] and health["redis"]["ok"], health
    with urllib.request.urlopen(app.url("/metrics"), timeout=10) as answer:
        text = answer.read().decode()
    complete = next(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith('ai_chat_turns_total{status="complete"}')
    )
    assert complete >= len(still_streaming) + 2, text
    # Every worker writes its turns' JSON lines to the app's output.
    lines = [
        json.loads(line)
        for line in app.log_path.read_text().splitlines()
        if line.startswith('{"event": "turn"')
    ]
    done = [line for line in lines if line["status"] == "complete"]
    assert len(done) >= len(still_streaming) + 2, lines
    assert all(line["request_id"] and line["first_token_ms"] is not None for line in done)
    for tab in tabs:
        tab.page.context.close()
