"""The built-in simulator in a process of its own, started by the start script (serve.py)
when there is no API key.

Mounted on the app's port instead, its streams would be requests in flight on the app's own
workers: on SIGTERM Granian waits for those before it runs the app's shutdown, so the drain
(generation/durability.py) never ran and the worker was killed at the end of its kill
timeout. Apart, its streams go on through the grace period like the real API's would.

The process has its own session (a Ctrl-C to the app's group doesn't end it mid-drain), is
stopped when the start script exits, and is told to stop by the kernel if the start script
dies without exiting (Linux `PR_SET_PDEATHSIG`).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import signal
import socket
import subprocess
import sys
import time

STARTUP_TIMEOUT_S = 30.0
_PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the child, before exec: SIGTERM when the start script dies (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def start_simulator() -> str:
    """Starts it on a free loopback port; returns its base URL once it answers."""
    port = _free_port()
    argv = [sys.executable, "-m", "ai_chat.simulator", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning", "--api-only"]
    proc = subprocess.Popen(argv, start_new_session=True, preexec_fn=_stop_with_parent)
    atexit.register(_stop, proc)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the built-in simulator exited at start ({proc.returncode})")
        try:  # API-only: no health route; listening is ready (uvicorn binds after startup)
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return base
        except OSError:
            if time.monotonic() > deadline:
                _stop(proc)
                raise RuntimeError("the built-in simulator did not start") from None
            time.sleep(0.05)
