"""Real-browser end-to-end fixtures: the app served as users run it, and Chromium.

`served_app` starts `reflex run --env prod` once per session (frontend + backend on one
free port, a fresh migrated SQLite DB), talking to a standalone Claude simulator
(`python -m ai_chat.simulator`, whose records the tests read: the app's built-in one serves
the Messages API only), and tears both process groups down afterwards. `builtin_app` is the
app as `make run` serves it without a key: the built-in simulator at /_sim and its purple
badge (started only for the tests that ask for it). `page` is a fresh browser context + page
per test.

Artifacts (server log, screenshots, failure screenshots) go to test-artifacts/e2e/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from ai_chat.config import STOCK_SWITCHES
from ai_chat.store.migrations import upgrade
from tests.conftest import service_missing
from tests.e2e.accounts import Account, Accounts, add_session_cookie
from tests.support import servers
from tests.support.servers import bun_path, free_port, private_web_workdir

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("AI_CHAT_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STARTUP_TIMEOUT_S = 240.0
SHUTDOWN_TIMEOUT_S = 15.0


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


def _answers(url: str, want_html: bool = False) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if response.status != 200:
                return False
            if want_html:
                return b"<html" in response.read(4096).lower()
            return True
    except (OSError, urllib.error.URLError, ValueError):
        return False


@dataclasses.dataclass(frozen=True)
class ServedApp:
    base_url: str
    port: int
    db_url: str
    log_path: Path
    pid: int
    sim_url: str = ""  # the standalone simulator the app talks to ("": the built-in one)

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def sim_records(self, tag: str) -> list[dict[str, Any]]:
        """The simulator's records of /v1/messages requests carrying this tag, oldest first."""
        assert self.sim_url, "the built-in simulator serves no records: use `served_app`"
        query = urllib.parse.urlencode({"tag": tag})
        with urllib.request.urlopen(f"{self.sim_url}/_records?{query}", timeout=5) as response:
            return json.loads(response.read())

    def wait_for_records(
        self, tag: str, predicate, timeout: float = 15.0, what: str = "records"
    ) -> list[dict[str, Any]]:
        """Poll the simulator records until `predicate(records)` holds (condition, not sleep)."""
        deadline = time.monotonic() + timeout
        records: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            records = self.sim_records(tag)
            if predicate(records):
                return records
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {records}")


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _stop_process_tree(proc: subprocess.Popen, tracked: list[psutil.Process]) -> None:
    """SIGTERM the session's process group, then SIGKILL whatever is left, children too."""
    pgid = proc.pid  # start_new_session=True: the child leads its own group
    tracked = tracked + _descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    # Children that left the group (granian workers, bun) must not survive either.
    _, alive = psutil.wait_procs(tracked, timeout=SHUTDOWN_TIMEOUT_S / 3)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    _, alive = psutil.wait_procs(alive, timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)  # stragglers still in the group
    survivors = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not survivors, f"app processes survived shutdown: {survivors}"


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The app pointed at a standalone simulator (its records are the tests' view of what
    reached "Claude"). An explicit endpoint: no Simulator badge, prices shown."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with servers.simulator(ARTIFACTS) as (sim_url, _sim_proc):
        extra = {"ANTHROPIC_BASE_URL": sim_url, "ANTHROPIC_API_KEY": "sk-e2e-simulator"}
        with _serve_app(tmp_path_factory, "e2e-app", "server.log", extra) as app:
            yield dataclasses.replace(app, sim_url=sim_url)


@pytest.fixture(scope="session")
def builtin_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The app as `make run` serves it with no key: the built-in simulator in its own process.
    AI_CHAT_AUTH=none (this machine only, no sign-in): its tests are about what any page or
    client can do before signing in, and about the simulator's badge and prices."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    extra = {"AI_CHAT_AUTH": "none"}
    with _serve_app(tmp_path_factory, "e2e-builtin", "server-builtin.log", extra) as app:
        yield app


@contextlib.contextmanager
def _serve_app(
    tmp_path_factory: pytest.TempPathFactory, name: str, log_name: str, extra: dict[str, str]
) -> Iterator[ServedApp]:
    """`reflex run --env prod` on a free port with a fresh migrated SQLite DB, until exit."""
    workdir = tmp_path_factory.mktemp(name)
    db_url = f"sqlite:///{workdir / 'e2e.db'}"
    upgrade(db_url)
    port = free_port()

    env = {
        k: v
        for k, v in os.environ.items()
        # Default settings, then `extra`; a stock-path switch of the run reaches the app.
        if not k.startswith(("ANTHROPIC_", "AI_CHAT_")) or k in STOCK_SWITCHES
    }
    env.update(extra)
    env.update(
        AI_CHAT_PORT=str(port),
        AI_CHAT_DB_URL=db_url,
        AI_CHAT_PUSH_INTERVAL_MS="50",
        REFLEX_BUN_PATH=bun_path(),
        REFLEX_WEB_WORKDIR=str(private_web_workdir(workdir / "web")),
        REFLEX_STATES_WORKDIR=str(workdir / "states"),
        PYTHONUNBUFFERED="1",
    )
    log_path = ARTIFACTS / log_name
    log = log_path.open("w")
    proc = subprocess.Popen(
        servers.app_argv(),  # the start script, as `make run` and Docker serve it
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    tracked: list[psutil.Process] = []
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"`reflex run` exited with {proc.returncode} before serving; "
                    f"log tail ({log_path}):\n{_tail(log_path)}",
                    pytrace=False,
                )
            tracked = list({p.pid: p for p in tracked + _descendants(proc.pid)}.values())
            if _answers(base_url + "/ping") and _answers(base_url + "/", want_html=True):
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the app did not answer /ping and / within {STARTUP_TIMEOUT_S:g} s; "
                    f"log tail ({log_path}):\n{_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.25)
        yield ServedApp(base_url, port, db_url, log_path, proc.pid)
    finally:
        try:
            _stop_process_tree(proc, tracked)
        finally:
            log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        service_missing("Chromium", f"{CHROMIUM} does not exist")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        service_missing("Playwright", exc)
    manager = sync_playwright().start()
    try:
        try:
            chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - any launch failure means "no browser"
            service_missing(f"Chromium at {CHROMIUM}", exc)
        yield chromium
        chromium.close()
    finally:
        manager.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def accounts(served_app: ServedApp) -> Accounts:
    """The served app's accounts: the admin, created once through POST /_auth/setup (the
    first visitor of a fresh install), and `accounts.new_user()` for more."""
    return Accounts(served_app)


@pytest.fixture
def user(accounts: Accounts) -> Account:
    """This test's own user, signed in through POST /_auth/signin: the sidebar lists only a
    user's own conversations, so each test starts with an empty one, as before accounts."""
    return accounts.new_user("e2e")


@pytest.fixture
def page(
    browser: Any, served_app: ServedApp, user: Account, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A fresh context (own cookies/session storage = own Reflex client token) and page,
    signed in as this test's `user` (the HttpOnly session cookie /_auth/signin set)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    add_session_cookie(context, served_app, user.token)
    pg = context.new_page()
    console: list[str] = []
    pg.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    pg.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
    try:
        yield pg
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            failures = ARTIFACTS / "failures"
            failures.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                pg.screenshot(path=str(failures / f"{request.node.name}.png"), full_page=True)
            (failures / f"{request.node.name}.console.txt").write_text("\n".join(console))
        context.close()
