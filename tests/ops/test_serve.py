"""The start script (`python -m ai_chat.serve`, what `make run`, Docker and the served
tests run), both paths, for real: a fresh database migrated, then `kill -9` of the worker.

- default: Granian respawns the worker and the app goes on serving;
- AI_CHAT_RESPAWN_WORKERS=0, the stock `reflex run` path: the worker's death ends the app
  (why the hook exists).

The whole app, frontend built, as `make run` serves it (Reflex refuses `--backend-only`
with this app's config, which sets the frontend's port). tests/e2e/test_workers_browser.py
kills one of 3 workers mid-reply.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import sqlalchemy as sa

from tests.support.servers import ROOT, Proc, app_argv, bun_path, free_port, private_web_workdir

START_TIMEOUT_S = 120.0


def until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def workers_of(proc: Proc) -> list[psutil.Process]:
    """Granian's workers: the supervisor's forked children (same command line)."""
    try:
        root = psutil.Process(proc.popen.pid)
        return [c for c in root.children() if c.cmdline() == root.cmdline()]
    except psutil.Error:
        return []


@contextlib.contextmanager
def serve(tmp_path: Path, respawn: bool) -> Iterator[tuple[Proc, str, str]]:
    port = free_port()
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "AI_CHAT_", "REFLEX_", "GRANIAN_", "PROMETHEUS_"))
    }
    env.update(
        AI_CHAT_PORT=str(port),
        AI_CHAT_DB_URL=db_url,
        AI_CHAT_RESPAWN_WORKERS="1" if respawn else "0",
        AI_CHAT_SHUTDOWN_GRACE_S="1",
        REFLEX_BUN_PATH=bun_path(),
        REFLEX_WEB_WORKDIR=str(private_web_workdir(tmp_path / "web")),
        REFLEX_STATES_WORKDIR=str(tmp_path / "states"),
        PYTHONUNBUFFERED="1",
    )
    proc = Proc("serve", app_argv(), ROOT, env, tmp_path / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        proc.wait_ready([base + "/ping", base + "/health", base + "/"], timeout=START_TIMEOUT_S)
        yield proc, base, db_url
    finally:
        proc.stop()


def migrated(db_url: str) -> bool:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar())
    finally:
        engine.dispose()


def test_default_path_migrates_and_respawns_a_killed_worker(tmp_path: Path):
    with serve(tmp_path, respawn=True) as (proc, base, db_url):
        assert migrated(db_url), "the start script migrates a fresh database"
        log = proc.log_path.read_text()
        assert "crashed workers respawn; kill timeout 3 s" in log, log
        (worker,) = workers_of(proc)
        os.kill(worker.pid, signal.SIGKILL)
        until(
            lambda: [w.pid for w in workers_of(proc)] not in ([], [worker.pid]),
            30,
            "a new worker",
        )
        until(lambda: get(base + "/health")[0] == 200, 60, "the new worker to serve")
        _, body = get(base + "/health")
        assert json.loads(body)["db"]["ok"] is True
        assert proc.popen.poll() is None, "the app kept running"
        assert get(base + "/metrics")[0] == 200
    assert proc.popen.returncode is not None


def test_stock_reflex_path_dies_with_its_worker(tmp_path: Path):
    with serve(tmp_path, respawn=False) as (proc, base, db_url):
        assert migrated(db_url)
        assert "stock `reflex run`" in proc.log_path.read_text()
        (worker,) = workers_of(proc)
        os.kill(worker.pid, signal.SIGKILL)
        until(lambda: proc.popen.poll() is not None, 30, "the app to exit")
        assert proc.popen.returncode != 0
        assert get(base + "/ping")[0] == 0, "nothing serves any more"
