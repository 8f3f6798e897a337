"""DB writes per turn, counted from outside the server process.

- SQLite (the default deployment): the file change counter in the DB header goes up once
  per committed write transaction (rollback-journal mode), and row counts tell inserts.
- PostgreSQL (the scale-out deployment): `pg_stat_user_tables` counts every inserted,
  updated and deleted row per table, exactly, for all of the server's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from benchmarks.rig import Rig
from benchmarks.seed import sqlite_change_counter, sqlite_counts, sqlite_journal_mode
from benchmarks.users import Turn, close_users, open_users, seed_chats

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_STATS = (
    "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
    "WHERE relname IN ('conversation', 'message')"
)


async def _turns(rig: Rig, existing: bool, count: int) -> dict[str, int]:
    cids = await seed_chats(rig, [2] * count) if existing else [""] * count
    users = await open_users(rig, cids, parallel=5)
    await asyncio.sleep(1)  # on_load's reads done; nothing else is running
    before = _snapshot(rig)
    try:
        for user in users:  # one at a time: each commit is attributable
            await user.run_turn(Turn(tokens=20, tps=200, ttft=0.05), timeout=60)
    finally:
        await close_users(users)
    await asyncio.sleep(1)
    return before


def _snapshot(rig: Rig) -> dict[str, int]:
    return {"commits": sqlite_change_counter(rig.db_url), **sqlite_counts(rig.db_url)}


async def sqlite_writes(rig: Rig, count: int) -> dict[str, Any]:
    """Write transactions and inserted rows per turn, in existing and in new chats."""
    result: dict[str, Any] = {"journal_mode": sqlite_journal_mode(rig.db_url), "turns": count}
    for existing in (True, False):
        before = await _turns(rig, existing, count)
        after = _snapshot(rig)
        key = "existing_chat" if existing else "new_chat"
        result[key] = {k: (after[k] - before[k]) / count for k in after}
    return result


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database (dropped afterwards), as the app's `postgresql://` URL;
    raises if PostgreSQL is absent."""
    name = f"ai_chat_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.make_url(PG_ADMIN_URL).set(drivername="postgresql", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _pg_rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(psycopg_url(url), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(PG_STATS)).all()
    engine.dispose()
    totals = {"inserted": 0, "updated": 0, "deleted": 0}
    for _, ins, upd, dele in rows:
        totals["inserted"] += ins
        totals["updated"] += upd
        totals["deleted"] += dele
    return totals


async def _pg_settled(url: str, timeout: float = 20.0) -> dict[str, int]:
    """Backends publish their counters when idle, up to ~10 s later: wait until stable."""
    last, stable_since = None, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = await asyncio.to_thread(_pg_rows, url)
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since > 11:
            break
        await asyncio.sleep(0.5)
    assert last is not None
    return last


async def pg_writes(rig: Rig, count: int) -> dict[str, Any]:
    """Row writes per turn in existing chats (inserted + updated + deleted rows)."""
    users = await open_users(rig, await seed_chats(rig, [2] * count), parallel=5)
    before = await _pg_settled(rig.db_url)
    try:
        for user in users:
            await user.run_turn(Turn(tokens=20, tps=200, ttft=0.05), timeout=60)
    finally:
        await close_users(users)
    after = await _pg_settled(rig.db_url)
    per_turn = {k: (after[k] - before[k]) / count for k in after}
    return {"turns": count, "per_turn": per_turn, "rows_per_turn": sum(per_turn.values())}
