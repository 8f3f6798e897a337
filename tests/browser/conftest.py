"""The app served the way users run it (`reflex run --env prod`), driven by Debian's Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_chat.store import migrations
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("AI_CHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
START_TIMEOUT_S = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bun_path() -> str:
    recorded = ROOT / ".tools" / "bun-path"
    if recorded.exists():
        return recorded.read_text().strip()
    return str(ROOT / ".tools" / "bun" / "node_modules" / ".bin" / "bun")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running app: built-in simulator, fresh migrated SQLite DB."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    db_url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'app.db'}"
    migrations.upgrade(db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "AI_CHAT_"))}
    env.update(
        {
            "AI_CHAT_PORT": str(port),
            "AI_CHAT_DB_URL": db_url,
            "REFLEX_BUN_PATH": _bun_path(),
            "AI_CHAT_PUSH_INTERVAL_MS": "50",
            "AI_CHAT_MAX_RETRIES": "0",
        }
    )
    log_path = ARTIFACTS / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "reflex"), "run", "--env", "prod"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (_answers(base + "/ping") and _answers(base + "/")):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text()[-3000:]
                pytest.fail(f"the app did not start (exit {process.poll()}):\n{tail}")
            time.sleep(0.25)
        yield base
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        service_missing(f"Chromium at {CHROMIUM}", "not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, served_app):
    context = browser.new_context(viewport={"width": 1100, "height": 800}, base_url=served_app)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
