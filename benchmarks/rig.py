"""A server under test with everything it needs: temp migrated DB, simulator URL, profile."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from ai_chat.store import migrations
from benchmarks import servers
from benchmarks.accounts import AccountPool
from benchmarks.apps import AppProfile, app_profile, naive_profile
from benchmarks.seed import sqlite_path, temp_sqlite_url


@dataclasses.dataclass
class Rig:
    name: str
    port: int
    proc: servers.Proc
    sim_url: str
    db_url: str
    app: AppProfile
    redis_url: str = ""
    workers: int = 1
    # The users' accounts on this server (none for the naive app), reused by every scenario.
    accounts: AccountPool | None = None

    def __post_init__(self) -> None:
        if self.accounts is None:
            self.accounts = AccountPool(self.db_url, self.port, enabled=not self.app.naive)


@contextlib.contextmanager
def serve(
    name: str,
    out_dir: Path,
    sim_url: str,
    *,
    naive: bool = False,
    db_url: str = "",
    redis_url: str = "",
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Rig]:
    """Start `reflex run --env prod` for the app (or the naive baseline) on a fresh DB."""
    if not db_url:
        db_url = temp_sqlite_url(out_dir / "db", f"{name}.db")
        for stale in ("", "-wal", "-shm", "-journal"):  # a fresh install, not last run's
            Path(f"{sqlite_path(db_url)}{stale}").unlink(missing_ok=True)
        migrations.upgrade(db_url)
    with servers.app_server(
        name,
        out_dir / "logs",
        sim_url,
        db_url,
        naive=naive,
        redis_url=redis_url,
        workers=workers,
        extra_env=extra_env,
    ) as (port, proc):
        profile = naive_profile() if naive else app_profile()
        # AI_CHAT_AUTH=none (e.g. to measure what accounts cost): no sign-in, one owner.
        signs_in = not naive and (extra_env or {}).get("AI_CHAT_AUTH", "password") == "password"
        accounts = AccountPool(db_url, port, enabled=signs_in)
        yield Rig(name, port, proc, sim_url, db_url, profile, redis_url, workers, accounts)
