"""`run_write` / `run_read`: one unit of work per call, on SQLite (worker thread, sqlite3)
and PostgreSQL (AsyncSession.run_sync), with the same store functions."""

from __future__ import annotations

import asyncio

import pytest

from ai_chat.config import async_url
from ai_chat.store import conversations as store
from ai_chat.store.db import read_scope, run_read, run_write


@pytest.fixture
def adb(db_url: str) -> str:
    return async_url(db_url)


def _turn_then_fail(session, owner: str, cid: str) -> None:
    store.add_user_message_sync(session, owner, cid, "never kept")
    raise RuntimeError("boom")


async def test_a_write_commits_and_a_failing_one_leaves_nothing(adb):
    conv, previous, first = await run_write(
        store.start_turn_sync, "alice", None, "Hello there", None, url=adb
    )
    assert previous == [] and first.seq == 0 and conv.title == "Hello there"
    with pytest.raises(RuntimeError, match="boom"):
        await run_write(_turn_then_fail, "alice", conv.id, url=adb)
    async with read_scope(adb) as session:
        rows = await store.list_messages(session, "alice", conv.id)
    assert [(r.seq, r.content) for r in rows] == [(0, "Hello there")]


async def test_reads_see_committed_turns_and_keep_owners_apart(adb):
    conv, _, _ = await run_write(store.start_turn_sync, "alice", None, "one", None, url=adb)
    await run_write(store.add_user_message_sync, "alice", conv.id, "two", url=adb)
    found, history = await run_read(store.history_sync, "alice", conv.id, url=adb)
    assert found.id == conv.id and [m.content for m in history] == ["one", "two"]
    with pytest.raises(store.ConversationNotFound):
        await run_read(store.history_sync, "mallory", conv.id, url=adb)


async def test_concurrent_writes_to_one_conversation_get_distinct_seqs(adb):
    conv, _, _ = await run_write(store.start_turn_sync, "alice", None, "first", None, url=adb)
    await asyncio.gather(
        *(
            run_write(store.add_user_message_sync, "alice", conv.id, f"m{i}", url=adb)
            for i in range(20)
        )
    )
    _, history = await run_read(store.history_sync, "alice", conv.id, url=adb)
    assert [m.seq for m in history] == list(range(21))
