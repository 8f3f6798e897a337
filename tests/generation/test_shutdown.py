"""Graceful shutdown and a database that is down when a reply ends.

Draining: a new turn is refused (text back in the box, nothing stored or sent), a reply that
ends within the grace period is stored complete, a longer one is stored interrupted with its
text. A reply the database refuses is reported `save_pending`, retried, and `ReplySaved`
says how that ended (PostgreSQL refusing connections, then accepting them again)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa

from ai_chat.generation import runtime
from ai_chat.generation.durability import DRAINING, NOT_SAVED
from ai_chat.generation.job import ReplySaved, TurnFinished
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.simulator.script import reply_text
from tests.conftest import PG_ADMIN_URL, wait_until
from tests.generation.helpers import make_job, run_turn, start_turn, stored_messages


async def test_draining_finishes_short_replies_and_interrupts_long_ones(app_env, sim, db_url):
    app_env(db_url=db_url)
    service = runtime.get_service()
    short_task, short_updates = start_turn(make_job("short [[sim tokens=30 tps=100 ttft=0]]"))
    long_task, long_updates = start_turn(make_job("long [[sim tokens=3000 tps=50 ttft=0]]"))
    for updates in (short_updates, long_updates):
        await wait_until(
            lambda: any(isinstance(u, LiveSnapshot) and u.text for u in updates),  # noqa: B023
            what="both replies streaming",
        )
    # The short reply has ~0.3 s left: well within the grace; the long one a minute.
    await service.durability.drain(grace_s=3)
    assert service.draining
    short, long = await short_task, await long_task

    assert short.finished.message.status == "complete"
    assert short.finished.message.content == reply_text("short", 30)
    final = long.finished.message
    assert final.status == "interrupted" and final.content
    assert reply_text("long", 3000).startswith(final.content)
    rows = await stored_messages(long.started.conversation_id)
    assert [(r.status, r.content) for r in rows][-1] == ("interrupted", final.content)
    assert rows[-1].lease_until is None

    refused = await run_turn(make_job("after the signal"))
    assert [type(u) for u in refused.updates] == [TurnFinished]
    assert not refused.finished.user_turn_saved
    assert refused.finished.user_text == "after the signal"
    assert refused.finished.message.error == DRAINING


def _connections(database: str, allowed: bool) -> None:
    """PostgreSQL refuses (or accepts again) connections to this database: it is "down"."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {allowed}'))
        if not allowed:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": database},
            )
    admin.dispose()


async def _down_at_the_end(app_env, postgres_url: str, **settings: str):
    from ai_chat.store import migrations
    from tests.conftest import sync_url

    migrations.upgrade(sync_url(postgres_url))
    app_env(db_url=postgres_url, **settings)
    database = sa.make_url(postgres_url).database
    assert database
    task, updates = start_turn(make_job("save me [[sim tokens=120 tps=40 ttft=0]]"))
    await wait_until(
        lambda: any(isinstance(u, LiveSnapshot) and u.text for u in updates), what="text"
    )
    await asyncio.to_thread(_connections, database, False)
    await wait_until(
        lambda: any(isinstance(u, TurnFinished) for u in updates), timeout=20, what="the end"
    )
    finished = next(u for u in updates if isinstance(u, TurnFinished))
    assert finished.save_pending and finished.message.status == "complete"
    return database, task, updates, finished


async def test_a_reply_the_database_refused_is_saved_once_it_is_back(app_env, sim, postgres_url):
    database, task, updates, finished = await _down_at_the_end(app_env, postgres_url)
    try:
        assert not any(isinstance(u, ReplySaved) for u in updates)  # still retrying
    finally:
        await asyncio.to_thread(_connections, database, True)
    result = await asyncio.wait_for(task, 30)
    saved = result.updates[-1]
    assert saved == ReplySaved(finished.message.id, saved=True)
    rows = await stored_messages(finished.message.conversation_id)
    assert (rows[-1].id, rows[-1].status, rows[-1].content) == (
        finished.message.id,
        "complete",
        reply_text("save me", 120),
    )


async def test_a_reply_the_database_keeps_refusing_is_given_up_with_a_message(
    app_env, sim, postgres_url
):
    database, task, _, finished = await _down_at_the_end(app_env, postgres_url, save_retry_s="0.2")
    try:
        result = await asyncio.wait_for(task, 30)
    finally:
        await asyncio.to_thread(_connections, database, True)
    assert result.updates[-1] == ReplySaved(finished.message.id, saved=False, error=NOT_SAVED)
