"""Processes under test: the app as deployed (its start script) and the standalone simulator.

Each runs in its own process group (``start_new_session``) and is stopped by signalling
THAT group only: other engineers' servers on this machine share process names.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from ai_chat.config import STOCK_SWITCHES

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 300.0
API_KEY = "sk-bench"  # the simulator accepts any key; this one marks test and bench traffic
# Per-user limits of an app started by `app_server`. Every limit stays ON (its check runs in
# every turn); only the message rate is raised, because a scripted user sends turns far
# faster than a person does. A refused turn is then a finding, never hidden.
SERVED_LIMITS = {
    "AI_CHAT_LIMIT_MESSAGES_PER_MINUTE": "1000",
    "AI_CHAT_LIMIT_CONCURRENT_REPLIES": "3",
    "AI_CHAT_LIMIT_TOKENS_PER_DAY": "2000000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bun_path() -> str:
    if os.environ.get("REFLEX_BUN_PATH"):
        return os.environ["REFLEX_BUN_PATH"]
    recorded = ROOT / ".tools" / "bun-path"
    if recorded.exists():
        return recorded.read_text().strip()
    return str(ROOT / ".tools" / "bun" / "node_modules" / ".bin" / "bun")


def http_get(url: str, timeout: float = 10.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body[:1] in (b"[", b"{") else body.decode()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class Proc:
    """A subprocess in its own session, with its whole tree measurable."""

    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str], log: Path):
        self.name, self.log_path = name, log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            self.popen = subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, urls: list[str], timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not all(_answers(u) for u in urls):
            if self.popen.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text()[-3000:]
                self.stop()
                raise RuntimeError(f"{self.name} did not start (exit {self.popen.poll()}):\n{tail}")
            time.sleep(0.25)  # polling a server that is starting: nothing to wait on instead

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.popen.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        """Resident bytes of the whole tree (CLI + server + workers)."""
        total = 0
        for proc in self.tree():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def cpu_s(self) -> float:
        """User + system CPU seconds of the whole tree so far."""
        total = 0.0
        for proc in self.tree():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)
        except ProcessLookupError:
            pass


def private_web_workdir(dest: Path) -> Path:
    """A private `.web` for one server: `reflex run --env prod` rebuilds `<workdir>/build` at
    start, and other engineers' servers share the repo's `.web`. node_modules is linked (no
    download); without a repo `.web`, Reflex sets the workdir up as on a first run."""
    source = ROOT / ".web"
    if dest.exists() or not source.is_dir():
        return dest
    dest.mkdir(parents=True)
    for entry in source.iterdir():
        target = dest / entry.name
        if entry.name in ("build", ".react-router"):
            continue
        if entry.name == "node_modules":
            target.symlink_to(entry.resolve(), target_is_directory=True)
        elif entry.is_dir():
            shutil.copytree(entry, target, symlinks=True)
        else:
            shutil.copy2(entry, target)
    return dest


def app_argv() -> list[str]:
    """How the app starts everywhere (`make run`, Docker, the tests, the benchmarks): the
    start script, run from the repo root (ai_chat/serve.py: migrate, then `reflex run --env
    prod` with workers that respawn). This interpreter: the suite may run from a snapshot of
    the repo without a .venv."""
    return [sys.executable, "-m", "ai_chat.serve"]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the app's own settings (but for the stock-path
    switches, so a whole run can be on the stock path), plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "AI_CHAT_", "REFLEX_", "GRANIAN_"))
        or k in STOCK_SWITCHES
    }
    env.update(extra)
    return env


def app_env(
    port: int, sim_url: str, db_url: str, redis_url: str = "", workers: int = 1
) -> dict[str, str]:
    """The environment of a served app on `port`, talking to the simulator at `sim_url`
    (empty: the built-in one, as `make run` without a key)."""
    env = clean_env(
        AI_CHAT_PORT=str(port),
        AI_CHAT_DB_URL=db_url,
        AI_CHAT_MAX_RETRIES="0",
        REFLEX_BUN_PATH=bun_path(),
    )
    if sim_url:
        env.update(ANTHROPIC_BASE_URL=sim_url, ANTHROPIC_API_KEY=API_KEY)
    if redis_url:
        env.update(AI_CHAT_REDIS_URL=redis_url, GRANIAN_WORKERS=str(workers))
    return env


@contextlib.contextmanager
def running(
    name: str,
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    log: Path,
    urls: list[str],
    timeout: float = START_TIMEOUT_S,
) -> Iterator[Proc]:
    """A process started, ready once every url answers 200, stopped on exit."""
    proc = Proc(name, argv, cwd, env, log)
    try:
        proc.wait_ready(urls, timeout)
        yield proc
    finally:
        proc.stop()


@contextlib.contextmanager
def simulator(log_dir: Path) -> Iterator[tuple[str, Proc]]:
    """The standalone simulator (its own process: its pacing doesn't share our GIL)."""
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "ai_chat.simulator",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    base = f"http://127.0.0.1:{port}"
    log = log_dir / "simulator.log"
    with running("simulator", argv, ROOT, clean_env(), log, [base + "/health"], 60) as proc:
        yield base, proc


@contextlib.contextmanager
def app_server(
    name: str,
    log_dir: Path,
    sim_url: str,
    db_url: str,
    *,
    redis_url: str = "",
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[tuple[int, Proc]]:
    """The app through its start script on a free port, with `SERVED_LIMITS` and its own
    `.web` and states directories under `<log_dir>/../work/<name>`."""
    port = free_port()
    env = app_env(port, sim_url, db_url, redis_url, workers)
    env.update(SERVED_LIMITS)
    env.update(extra_env or {})
    work = log_dir.parent / "work" / name
    web = private_web_workdir(work / "web")
    env.update(REFLEX_WEB_WORKDIR=str(web), REFLEX_STATES_WORKDIR=str(work / "states"))
    urls = [f"http://127.0.0.1:{port}/ping", f"http://127.0.0.1:{port}/"]
    with running(name, app_argv(), ROOT, env, log_dir / f"{name}.log", urls) as proc:
        yield port, proc
