"""Processes under test: the app as deployed, the naive baseline, the standalone simulator.

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

ROOT = Path(__file__).resolve().parents[1]
NAIVE_DIR = ROOT / "benchmarks" / "naive_app"
START_TIMEOUT_S = 300.0
BENCH_API_KEY = "sk-bench"
# Per-user limits of the app under test. Every limit stays ON (its check runs in every
# measured turn); only what a scenario needs beyond the default is raised: one user sends
# ~100-200 turns a minute in the first-token and stop measurements (a 20-token reply takes
# ~0.3 s), past the default 30. Replies at once (3: each user has one at a time) and tokens
# per day (2,000,000: the most any account uses in a full run is ~0.5 M, the 500-turn chats)
# stay at their defaults; failed sign-ins per address too (a benchmark's sign-ins don't
# fail). A refused turn is an error of the run (benchmarks/users.py), never hidden.
BENCH_LIMITS = {
    "AI_CHAT_LIMIT_MESSAGES_PER_MINUTE": "1000",
    "AI_CHAT_LIMIT_CONCURRENT_REPLIES": "3",
    "AI_CHAT_LIMIT_TOKENS_PER_DAY": "2000000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
            return response.status == 200
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
            time.sleep(0.25)

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


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "AI_CHAT_", "REFLEX_", "GRANIAN_"))
    }
    env.update(extra)
    return env


@contextlib.contextmanager
def simulator(log_dir: Path) -> Iterator[tuple[str, Proc]]:
    """The standalone simulator (its own process: its pacing doesn't share the bench's GIL)."""
    port = free_port()
    proc = Proc(
        "simulator",
        [sys.executable, "-m", "ai_chat.simulator", "--port", str(port), "--log-level", "warning"],
        ROOT,
        _clean_env(),
        log_dir / "simulator.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        proc.wait_ready([base + "/health"], timeout=60)
        yield base, proc
    finally:
        proc.stop()


@contextlib.contextmanager
def app_server(
    name: str,
    log_dir: Path,
    sim_url: str,
    db_url: str,
    *,
    naive: bool = False,
    redis_url: str = "",
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[tuple[int, Proc]]:
    """The app through its start script on a free port (the naive baseline: stock `reflex run
    --backend-only`, no UI to build)."""
    port = free_port()
    env = _clean_env(
        AI_CHAT_PORT=str(port),
        AI_CHAT_DB_URL=db_url,
        ANTHROPIC_BASE_URL=sim_url,
        ANTHROPIC_API_KEY=BENCH_API_KEY,
        AI_CHAT_MAX_RETRIES="0",
        REFLEX_BUN_PATH=bun_path(),
    )
    if redis_url:
        env.update(AI_CHAT_REDIS_URL=redis_url, GRANIAN_WORKERS=str(workers))
    if not naive:
        env.update(BENCH_LIMITS)
    env.update(extra_env or {})
    work = log_dir.parent / "work" / name
    web = work / "web" if naive else private_web_workdir(work / "web")  # naive: no UI
    env.update(REFLEX_WEB_WORKDIR=str(web), REFLEX_STATES_WORKDIR=str(work / "states"))
    argv = app_argv()
    cwd, urls = ROOT, [f"http://127.0.0.1:{port}/ping", f"http://127.0.0.1:{port}/"]
    if naive:
        reflex = str(Path(sys.executable).parent / "reflex")
        argv = [reflex, "run", "--env", "prod", "--backend-only", "--backend-port", str(port)]
        cwd, urls = NAIVE_DIR, urls[:1]
        env["PYTHONPATH"] = str(ROOT)  # it reuses ai_chat's store and views
    proc = Proc(name, argv, cwd, env, log_dir / f"{name}.log")
    try:
        proc.wait_ready(urls)
        yield port, proc
    finally:
        proc.stop()


@contextlib.contextmanager
def py_spy(proc: Proc, out: Path, native: bool = False) -> Iterator[None]:
    """Sample the server's worker (the last process of its tree) with py-spy: a flame graph
    if `out` ends in .svg, else collapsed stacks (one "frame;frame;… count" line each).
    `native`: C/Rust frames too (slower sampling, but shows what the event loop runs)."""
    worker = proc.tree()[-1]
    fmt = "flamegraph" if out.suffix == ".svg" else "raw"
    py_spy_bin = str(Path(sys.executable).parent / "py-spy")
    argv = [py_spy_bin, "record", "-p", str(worker.pid), "-r", "100", "-f", fmt, "-o", str(out)]
    # py-spy can only unwind native stacks of a paused process
    argv.append("--native" if native else "--nonblocking")
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        spy.wait(timeout=60)
