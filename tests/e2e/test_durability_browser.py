"""Process death mid-reply, for real: the served app (its start script; one worker and
SQLite, or three workers, Redis and PostgreSQL) is killed with SIGKILL or stopped with
SIGTERM while a browser watches a reply stream.

- `kill -9` of the whole app, then a restart on the same database: the reply is there up to
  its last checkpoint (at least the text the browser showed once that checkpoint was
  written), marked interrupted, and the page shows it so.
- SIGTERM with a short grace period: a reply that ends within it is stored complete, a long
  one is stored interrupted with its text, and every process has exited within grace + 2 s.

These tests start their own servers (they kill them), apart from the session's `served_app`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from ai_chat.simulator.script import reply_text
from tests.conftest import REDIS_URL, service_missing, sync_url
from tests.support import servers

from .accounts import Accounts, add_session_cookie
from .chat_page import (
    ASSISTANT,
    conversation_id,
    open_chat,
    send_with_enter,
    unique_tag,
    wait_streamed,
)
from .conftest import ARTIFACTS, ServedApp

pytestmark = pytest.mark.browser

GRACE_S = 4.0
LOG_DIR = ARTIFACTS / "durability"
LIVE_BODY = "#live-reply .message-body"


def _live_text(page: Page) -> str:
    return page.evaluate(
        f"() => {{ const el = document.querySelector('{LIVE_BODY}'); "
        "return el ? el.innerText : ''; }"
    )


def _reply_row(db_url: str, cid: str) -> dict[str, Any]:
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT id, content, status, lease_until FROM message WHERE conversation_id = "
                    ":cid AND role = 'assistant' ORDER BY seq DESC LIMIT 1"
                ),
                {"cid": cid},
            ).first()
        return dict(row._mapping) if row else {}
    finally:
        engine.dispose()


def _checkpointed(server: Server, cid: str) -> str:
    """The reply's last checkpoint: its row's content, or with Redis its Redis checkpoint
    (the longer: a round Redis refused goes to the database)."""
    row = _reply_row(server.db_url, cid)
    if not row or not server.redis_url:
        return row.get("content", "")
    text = redis.Redis.from_url(server.redis_url).get(f"ai_chat:reply:{row['id']}:text")
    return max((text or b"").decode(), row["content"], key=len)


def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll a condition (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _log_tail(app: ServedApp, lines: int = 25) -> str:
    """The server's last words, for an assertion's message."""
    text = Path(app.log_path).read_text(errors="replace").splitlines()
    return "server log:\n" + "\n".join(text[-lines:])


def _flat(text: str) -> str:
    return " ".join(text.split())


class Server:
    """One app server on a database of this module's, started and stopped at will."""

    def __init__(
        self, sim_url: str, db_url: str, log_dir: Path, redis_url: str = "", workers: int = 1
    ) -> None:
        self.sim_url, self.db_url, self.log_dir = sim_url, db_url, log_dir
        self.redis_url, self.workers = redis_url, workers
        self.starts = 0
        log_dir.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def run(self, **env: str) -> Iterator[tuple[ServedApp, servers.Proc]]:
        self.starts += 1
        name = f"durability-{self.starts}"  # the same build dir for every test's Nth start
        with servers.app_server(
            name,
            self.log_dir,
            self.sim_url,
            self.db_url,
            redis_url=self.redis_url,
            workers=self.workers,
            extra_env=env,
        ) as (port, proc):
            base = f"http://127.0.0.1:{port}"
            yield ServedApp(base, port, self.db_url, proc.log_path, proc.popen.pid), proc


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with servers.simulator(LOG_DIR) as (url, _):
        yield url


@pytest.fixture(
    params=[
        "one-worker",
        pytest.param("three-workers", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def server(request: pytest.FixtureRequest, sim_url: str, tmp_path: Path) -> Server:
    """This test's own database (and admin); its servers are started by the test. As `make
    run` serves it (one worker, SQLite, checkpoints in the database), and scaled out (three
    workers, Redis, PostgreSQL, checkpoints in Redis)."""
    log_dir = LOG_DIR / request.param  # each variant's logs kept apart, for a failure's story
    if request.param == "one-worker":  # and the built-in simulator, in its own process
        return Server("", f"sqlite:///{tmp_path / 'durable.db'}", log_dir)
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {REDIS_URL}", exc)
    db_url = sync_url(request.getfixturevalue("postgres_url"))
    return Server(sim_url, db_url, log_dir, redis_url=REDIS_URL, workers=3)


class _Accounts(Accounts):
    """Accounts on any of the databases (SQLite's connect arguments only on SQLite)."""

    def _engine(self) -> sa.Engine:
        if self.app.db_url.startswith("sqlite"):
            return super()._engine()
        return sa.create_engine(self.app.db_url, poolclass=sa.pool.NullPool)


def _tree(proc: servers.Proc) -> list[psutil.Process]:
    return proc.tree()


def _signed_in_page(browser: Any, app: ServedApp, token: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    add_session_cookie(context, app, token)
    return context.new_page()


def test_kill_9_mid_reply_then_restart_keeps_the_reply_up_to_its_checkpoint(
    browser: Any, server: Server
):
    expect.set_options(timeout=15_000)
    tag = unique_tag("kill9")
    prompt = f"Tell me everything [[sim tokens=2000 tps=20 ttft=0 tag={tag}]]"
    full = _flat(reply_text("Tell me everything", 2000))
    with server.run() as (app, proc):
        user = _Accounts(app).new_user("kill9")
        page = _signed_in_page(browser, app, user.token)
        open_chat(page, app)
        send_with_enter(page, prompt)
        wait_streamed(page, 80)
        cid = conversation_id(page)
        seen = _flat(_live_text(page))
        # The next checkpoint (at most a second away) holds what the browser showed.
        _until(
            lambda: len(_flat(_checkpointed(server, cid))) >= len(seen),
            timeout=5,
            what="a checkpoint holding the text the browser showed",
        )
        tree = _tree(proc)
        os.killpg(proc.popen.pid, signal.SIGKILL)
        for child in tree:
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(tree, timeout=10)
        crashed = _reply_row(app.db_url, cid)
        assert crashed["status"] in ("thinking", "streaming")  # nobody stored its end
        page.context.close()

    with server.run() as (app, _proc):
        # The sweeper finds the reply whose lease passed, at start or a few seconds later.
        _until(
            lambda: _reply_row(app.db_url, cid).get("status") == "interrupted",
            timeout=30,
            what="the reply recovered as interrupted",
        )
        row = _reply_row(app.db_url, cid)
        kept = _flat(row["content"])
        assert len(kept) >= len(seen) and full.startswith(kept), (len(kept), len(seen))
        assert row["lease_until"] is None
        page = _signed_in_page(browser, app, user.token)
        page.goto(app.url(f"/c/{cid}"))
        reply = page.locator(ASSISTANT).last
        expect(reply).to_have_attribute("data-status", "interrupted")
        page.screenshot(path=str(ARTIFACTS / "durability-after-kill9.png"))
        page.context.close()


def test_sigterm_finishes_short_replies_interrupts_long_ones_and_exits_in_time(
    browser: Any, server: Server
):
    expect.set_options(timeout=15_000)
    long_prompt = f"Go on and on [[sim tokens=3000 tps=20 ttft=0 tag={unique_tag('long')}]]"
    short_prompt = f"Be brief [[sim tokens=30 tps=20 ttft=0 tag={unique_tag('short')}]]"
    with server.run(AI_CHAT_SHUTDOWN_GRACE_S=str(GRACE_S)) as (app, proc):
        accounts = _Accounts(app)
        user = accounts.new_user("sigterm")
        long_page = _signed_in_page(browser, app, user.token)
        short_page = _signed_in_page(browser, app, accounts.new_session(user).token)
        open_chat(long_page, app)
        open_chat(short_page, app)
        send_with_enter(long_page, long_prompt)
        wait_streamed(long_page, 40)
        long_cid = conversation_id(long_page)
        send_with_enter(short_page, short_prompt)
        wait_streamed(short_page, 5)  # ~1.5 s left of it: well within the grace
        short_cid = conversation_id(short_page)
        seen = _flat(_live_text(long_page))

        tree = _tree(proc)
        signalled = time.monotonic()
        if server.workers == 1:
            # To the start script's process (Granian's supervisor), as Docker and systemd's
            # KillMode=mixed send it; Granian passes it on to its workers.
            how = "SIGTERM to the supervisor"
            os.kill(proc.popen.pid, signal.SIGTERM)
        else:
            # Ctrl-C in a terminal: SIGINT to every process of the group at once.
            how = "SIGINT to the process group"
            os.killpg(proc.popen.pid, signal.SIGINT)
        _, alive = psutil.wait_procs(tree, timeout=GRACE_S + 5)
        took = time.monotonic() - signalled
        print(f"{how} -> every process exited in {took:.2f} s (grace {GRACE_S} s)")
        assert not alive, f"still running {took:.1f} s after {how}: {alive}"
        assert took <= GRACE_S + 2, (
            f"exited {took:.1f} s after {how} (grace {GRACE_S} s); {_log_tail(app)}"
        )
        for pg in (long_page, short_page):
            pg.context.close()

    short = _reply_row(app.db_url, short_cid)
    assert (short["status"], _flat(short["content"])) == (
        "complete",
        _flat(reply_text("Be brief", 30)),
    ), _log_tail(app)
    long = _reply_row(app.db_url, long_cid)
    kept = _flat(long["content"])
    assert long["status"] == "interrupted" and long["lease_until"] is None
    assert len(kept) >= len(seen) and _flat(reply_text("Go on and on", 3000)).startswith(kept)
