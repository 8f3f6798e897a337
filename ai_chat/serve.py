"""The start script every server uses: `make run`, the tests' and benchmarks' served app
(tests/support/servers.py), Docker and compose.

    python -m ai_chat.serve [--no-migrate] [-- extra `reflex run` options]

It migrates the database, prepares the metrics directory its workers share, starts the
built-in simulator in a process of its own when there is no API key
(`ai_chat/ops/simulator_process.py`), then runs the
app exactly as `reflex run --env prod` does (frontend built and served with the backend on
one port), with Granian workers that respawn when one crashes (`ai_chat/ops/workers.py`;
`AI_CHAT_RESPAWN_WORKERS=0`: the stock path). Run it from the project root (rxconfig.py).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ai_chat.config import get_settings
from ai_chat.ops import workers

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_dir() -> Path:
    """The directory where every worker keeps its metrics (prometheus_client's
    multiprocess mode), emptied at start: counts begin again with the server."""
    given = os.environ.get(METRICS_DIR_ENV, "").strip()
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        return path
    path = Path(tempfile.mkdtemp(prefix="ai_chat-metrics-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def migration_url(db_url: str) -> str:
    """The sync driver Alembic uses: psycopg (v3, installed) for a bare postgresql:// URL,
    which SQLAlchemy would otherwise hand to psycopg2 (not installed)."""
    for bare in ("postgresql://", "postgres://"):
        if db_url.startswith(bare):
            return "postgresql+psycopg://" + db_url[len(bare) :]
    return db_url


def _bun_path() -> None:
    """The bun `make` found, when the caller didn't say (`python -m ai_chat.serve` by hand)."""
    recorded = Path(".tools/bun-path")
    if not os.environ.get("REFLEX_BUN_PATH") and recorded.is_file():
        os.environ["REFLEX_BUN_PATH"] = recorded.read_text().strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ai_chat.serve", description=__doc__)
    parser.add_argument("--no-migrate", action="store_true", help="skip `alembic upgrade head`")
    args, extra = parser.parse_known_args(argv)
    extra = [a for a in extra if a != "--"]
    if not Path("rxconfig.py").is_file():
        sys.exit("python -m ai_chat.serve: run it from the project root (where rxconfig.py is)")
    # Before anything imports prometheus_client: its mode is fixed at import.
    os.environ[METRICS_DIR_ENV] = str(metrics_dir())
    settings = get_settings()
    if not args.no_migrate:
        from ai_chat.store.migrations import upgrade

        upgrade(migration_url(settings.db_url))
    _bun_path()
    if settings.use_simulator and not settings.simulator_url:
        from ai_chat.ops.simulator_process import start_simulator

        # Its own process, so its streams are not the app's requests in flight at SIGTERM.
        os.environ["AI_CHAT_SIMULATOR_URL"] = start_simulator()
        get_settings.cache_clear()
        print(f"ai_chat.serve: built-in simulator at {os.environ['AI_CHAT_SIMULATOR_URL']}")
    if settings.respawn_workers:
        timeout = workers.kill_timeout_s(settings)
        workers.install(timeout)
        print(f"ai_chat.serve: crashed workers respawn; kill timeout {timeout} s", flush=True)
    else:
        print("ai_chat.serve: stock `reflex run` (AI_CHAT_RESPAWN_WORKERS=0)", flush=True)
    relaunch = [sys.executable, "-m", "ai_chat.serve", "--no-migrate", *extra]
    workers.run_reflex_prod(extra, relaunch)


if __name__ == "__main__":
    main()
