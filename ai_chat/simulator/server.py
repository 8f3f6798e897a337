"""Run the simulator under uvicorn in a background thread (for tests, benchmarks, dev).

Usage: ``with SimulatorServer() as sim:``, then point ``AsyncAnthropic(base_url=sim.base_url,
api_key="sk-test")`` at it and read what the server saw with ``sim.recorder.find("my-tag")``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import uvicorn

from .app import SimulatorApp, create_app
from .records import Recorder

STARTUP_TIMEOUT_S = 10.0
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class _Server(uvicorn.Server):
    """uvicorn.Server that tells another thread when it is serving."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class SimulatorServer:
    """The simulator on 127.0.0.1 in a daemon thread; ready when `start()`/`__enter__` returns."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        recorder: Recorder | None = None,
        env: Mapping[str, str] | None = None,
        graceful_shutdown_s: float = 0.5,
        mount_path: str = "",
        api_only: bool = False,
    ) -> None:
        """`mount_path` (e.g. "/_sim") serves the app inside a Starlette ``Mount``, the way the
        main app does; `base_url` then includes it. `api_only` serves the Messages API
        routes only, as the main app mounts it (no records or health endpoints)."""
        self.app: SimulatorApp = create_app(recorder, env, api_only=api_only)
        self.host = host
        self.mount_path = mount_path.rstrip("/")
        self._port = port
        self._graceful = graceful_shutdown_s
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def recorder(self) -> Recorder:
        return self.app.recorder

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}{self.mount_path}"

    def _asgi_app(self) -> ASGIApp:
        if not self.mount_path:
            return self.app
        from starlette.applications import Starlette
        from starlette.routing import Mount

        return Starlette(routes=[Mount(self.mount_path, app=self.app)])

    def start(self) -> SimulatorServer:
        # Bind here, not in uvicorn: port 0 gets a free port we know before serving, and the
        # listening socket already queues connections, so there is no race with the caller.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._port))
        sock.listen(128)
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi_app(),
            http="h11",
            loop="asyncio",
            lifespan="off",
            log_config=None,  # leave the host process's logging alone
            log_level="warning",
            access_log=False,
            # uvicorn hands it to asyncio.wait_for, which takes any float; its hint says int
            timeout_graceful_shutdown=self._graceful,  # type: ignore[arg-type]
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"ai_chat-simulator:{self._port}", daemon=True
        )
        self._thread.start()
        if not self._server.ready.wait(STARTUP_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"simulator did not start: {self._error!r}")
        return self

    def _run(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._server.serve(sockets=[sock]))
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a failed startup too
            self._error = exc
        finally:
            sock.close()

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():  # a stuck response: skip the graceful wait
            self._server.force_exit = True
            self._thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
