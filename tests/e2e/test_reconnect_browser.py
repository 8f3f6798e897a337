"""The served app restarted under an open tab (its memory state lost) must show the tab its
conversation again, never an empty "New chat" under `/c/<id>`; a reply cut by a kill -9 is
shown with its text up to the last checkpoint, marked Interrupted, with Continue and Retry,
and the tab is usable (Send back). A new conversation's URL comes from a real (replace)
navigation, so the route the reconnecting tab sends is its conversation's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ai_chat.store.migrations import upgrade
from tests.support import servers
from tests.support.servers import bun_path, free_port, private_web_workdir

from .accounts import PASSWORD, add_session_cookie, post_form
from .chat_page import (
    ASSISTANT,
    LIVE,
    USER,
    body,
    button,
    conversation_id,
    open_chat,
    send_with_enter,
    wait_streamed,
)
from .conftest import ARTIFACTS, ROOT, STARTUP_TIMEOUT_S, ServedApp, _answers, _tail

pytestmark = pytest.mark.browser


class Restartable:
    """The app through its start script on a fixed port and DB, stopped and started again."""

    def __init__(self, workdir: Path, sim_url: str) -> None:
        self.port = free_port()
        self.db_url = f"sqlite:///{workdir / 'e2e.db'}"
        upgrade(self.db_url)
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AI_CHAT_"))
        }
        self.env.update(
            ANTHROPIC_BASE_URL=sim_url,
            ANTHROPIC_API_KEY="sk-e2e-simulator",
            AI_CHAT_PORT=str(self.port),
            AI_CHAT_DB_URL=self.db_url,
            REFLEX_BUN_PATH=bun_path(),
            REFLEX_WEB_WORKDIR=str(private_web_workdir(workdir / "web")),
            REFLEX_STATES_WORKDIR=str(workdir / "states"),
            PYTHONUNBUFFERED="1",
        )
        self.log_path = ARTIFACTS / "server-restarts.log"
        self.proc: subprocess.Popen | None = None

    @property
    def app(self) -> ServedApp:
        assert self.proc is not None
        return ServedApp(
            f"http://127.0.0.1:{self.port}", self.port, self.db_url, self.log_path, self.proc.pid
        )

    def start(self) -> None:
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                servers.app_argv(),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not (_answers(base + "/ping") and _answers(base + "/", want_html=True)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app did not start:\n{_tail(self.log_path)}", pytrace=False)
            time.sleep(0.25)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the whole process group (workers included) and wait for it to be gone."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of the group
        self.proc = None


@pytest.fixture(scope="module")
def restartable(
    tmp_path_factory: pytest.TempPathFactory, served_app: ServedApp
) -> Iterator[Restartable]:
    server = Restartable(tmp_path_factory.mktemp("e2e-restart"), served_app.sim_url)
    server.start()
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)


@pytest.fixture(scope="module")
def admin_token(restartable: Restartable) -> str:
    answer = post_form(restartable.app, "/_auth/setup", {"username": "admin", "password": PASSWORD})
    assert answer.status == 303 and answer.token()
    return answer.token()


@pytest.fixture
def tab(browser: Any, restartable: Restartable, admin_token: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    add_session_cookie(context, restartable.app, admin_token)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_restart_under_an_open_tab_shows_its_conversation_again(
    tab: Page, restartable: Restartable
):
    app = restartable.app
    open_chat(tab, app)
    send_with_enter(tab, "Remember me [[sim tps=200 tokens=30]]")
    expect(tab.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    cid = conversation_id(tab)
    reply = body(tab.locator(ASSISTANT))

    restartable.stop()
    restartable.start()  # memory state gone: the tab reconnects with its route

    expect(button(tab, "Send")).to_be_enabled(timeout=60_000)
    expect(tab.locator(USER)).to_have_count(1)
    expect(tab.locator(ASSISTANT)).to_have_count(1)
    assert body(tab.locator(ASSISTANT)) == reply
    assert conversation_id(tab) == cid
    expect(tab.get_by_text("How can Claude help?")).to_have_count(0)


def test_a_reply_cut_by_kill_9_comes_back_interrupted_with_continue(
    tab: Page, restartable: Restartable
):
    app = restartable.app
    open_chat(tab, app)
    send_with_enter(tab, "A long one [[sim tps=20 tokens=2000]]")
    wait_streamed(tab, 40)
    cid = conversation_id(tab)
    # Past a checkpoint (at least one a second): what the tab shows now is stored.
    seen = len(body(tab.locator(LIVE)))
    tab.wait_for_function(
        "(n) => document.querySelector('#live-reply .message-body')?.innerText.length > n",
        arg=seen + 60,
    )
    restartable.stop(signal.SIGKILL)
    restartable.start()

    reply = tab.locator(ASSISTANT)
    expect(reply).to_have_attribute("data-status", "interrupted", timeout=60_000)
    expect(tab.locator(LIVE)).to_have_count(0)
    assert len(body(reply)) >= seen
    expect(reply.get_by_text("Interrupted")).to_be_visible()
    reply.hover()
    expect(tab.get_by_role("button", name="Continue")).to_be_visible()
    expect(tab.get_by_role("button", name="Retry")).to_be_visible()
    expect(button(tab, "Send")).to_be_enabled()
    assert conversation_id(tab) == cid


def test_a_question_whose_reply_was_lost_shows_no_reply_with_retry(
    page: Page, served_app: ServedApp, user: Any
):
    """A crash before the reply's first checkpoint: the question is marked "No reply" (and
    not sent again with the next one), the empty reply Interrupted; Retry asks again."""
    from datetime import timedelta

    import sqlalchemy as sa
    from sqlmodel import Session

    from ai_chat.store.models import Conversation, Message, utcnow

    engine = sa.create_engine(served_app.db_url, poolclass=sa.pool.NullPool)
    try:
        with Session(engine) as session:
            conversation = Conversation(owner=user.user_id, title="lost")
            session.add(conversation)
            session.flush()
            cid = conversation.id
            session.add_all(
                [
                    Message(conversation_id=cid, seq=0, role="user", content="Lost question"),
                    Message(
                        conversation_id=cid,
                        seq=1,
                        role="assistant",
                        status="streaming",
                        lease_until=utcnow() - timedelta(seconds=60),
                    ),
                ]
            )
            session.commit()
    finally:
        engine.dispose()
    open_chat(page, served_app, f"/c/{cid}")
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "interrupted")
    question = page.locator(USER)
    expect(question.get_by_text("No reply")).to_be_visible()
    question.hover()
    button(page, "Retry").first.click()
    expect(page.locator(ASSISTANT)).to_have_attribute("data-status", "complete")
    expect(page.locator(USER)).to_have_count(1)
    expect(page.get_by_text("No reply")).to_have_count(0)
