"""The servers a benchmark measures: the app as deployed, or the naive baseline (stock
`reflex run --backend-only`), plus py-spy on a server's worker.

Starting and stopping processes is shared with the tests (tests/support/servers.py).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.support.servers import (
    ROOT,
    SERVED_LIMITS,
    Proc,
    app_env,
    free_port,
    running,
)
from tests.support.servers import app_server as _served_app

NAIVE_DIR = ROOT / "benchmarks" / "naive_app"
# Per-user limits of the app under test: tests/support/servers.SERVED_LIMITS. One user sends
# ~100-200 turns a minute in the first-token and stop measurements, past the default 30.
# Replies at once (3: each user has one at a time) and tokens per day (2,000,000: more than
# the 500-turn chats use) stay at their defaults; failed sign-ins per address too (a
# benchmark's sign-ins don't fail). A refused turn is an error of the run
# (benchmarks/users.py), never hidden.
BENCH_LIMITS = SERVED_LIMITS


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
    """The app through its start script on a free port, or the naive baseline: stock
    `reflex run --backend-only`, no UI to build."""
    if not naive:
        with _served_app(
            name,
            log_dir,
            sim_url,
            db_url,
            redis_url=redis_url,
            workers=workers,
            extra_env=extra_env,
        ) as served:
            yield served
        return
    port = free_port()
    env = app_env(port, sim_url, db_url, redis_url, workers)
    env.update(extra_env or {})
    work = log_dir.parent / "work" / name
    env.update(REFLEX_WEB_WORKDIR=str(work / "web"), REFLEX_STATES_WORKDIR=str(work / "states"))
    env["PYTHONPATH"] = str(ROOT)  # it reuses ai_chat's store and views
    reflex = str(Path(sys.executable).parent / "reflex")
    argv = [reflex, "run", "--env", "prod", "--backend-only", "--backend-port", str(port)]
    urls = [f"http://127.0.0.1:{port}/ping"]
    with running(name, argv, NAIVE_DIR, env, log_dir / f"{name}.log", urls) as proc:
        yield port, proc


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
