"""`run_write` / `run_read`: one unit of work per call, on SQLite (worker thread, sqlite3)
and PostgreSQL (AsyncSession.run_sync), with the same store functions."""

from __future__ import annotations

import asyncio

import pytest

from ai_chat.config import async_url
from ai_chat.store import conversations as store
from ai_chat.store import turns
from ai_chat.store.columns import as_utc
from ai_chat.store.conversation_list import delete_conversation
from ai_chat.store.db import read_scope, run_read, run_write, session_scope
from ai_chat.store.models import Message


@pytest.fixture
def adb(db_url: str) -> str:
    return async_url(db_url)


def _turn_then_fail(session, owner: str, cid: str) -> None:
    turns.add_user_message_sync(session, owner, cid, "never kept")
    raise RuntimeError("boom")


async def test_a_write_commits_and_a_failing_one_leaves_nothing(adb):
    conv, previous, first = await run_write(
        turns.start_turn_sync, "alice", None, "Hello there", None, url=adb
    )
    assert previous == [] and first.seq == 0 and conv.title == "Hello there"
    with pytest.raises(RuntimeError, match="boom"):
        await run_write(_turn_then_fail, "alice", conv.id, url=adb)
    async with read_scope(adb) as session:
        rows = await store.list_messages(session, "alice", conv.id)
    assert [(r.seq, r.content) for r in rows] == [(0, "Hello there")]


async def test_reads_see_committed_turns_and_keep_owners_apart(adb):
    conv, _, _ = await run_write(turns.start_turn_sync, "alice", None, "one", None, url=adb)
    await run_write(turns.add_user_message_sync, "alice", conv.id, "two", url=adb)
    found, history = await run_read(turns.history_sync, "alice", conv.id, url=adb)
    assert found.id == conv.id and [m.content for m in history] == ["one", "two"]
    with pytest.raises(store.ConversationNotFound):
        await run_read(turns.history_sync, "mallory", conv.id, url=adb)


async def test_concurrent_user_turns_in_one_conversation_each_keep_a_seq_for_their_reply(adb):
    conv, _, _ = await run_write(turns.start_turn_sync, "alice", None, "first", None, url=adb)
    await asyncio.gather(
        *(
            run_write(turns.add_user_message_sync, "alice", conv.id, f"m{i}", url=adb)
            for i in range(20)
        )
    )
    _, history = await run_read(turns.history_sync, "alice", conv.id, url=adb)
    assert [m.seq for m in history] == list(range(0, 42, 2))


async def test_concurrent_turn_starts_in_one_conversation_each_see_the_turns_before_them(adb):
    """start_turn_sync locks the conversation before listing its turns (PostgreSQL), so each
    turn's history is exactly the turns stored before it, and its seq follows them (a seq
    apart: the one between is kept for the reply to the turn before)."""
    conv, _, _ = await run_write(turns.start_turn_sync, "alice", None, "first", None, url=adb)
    started = await asyncio.gather(
        *(
            run_write(turns.start_turn_sync, "alice", conv.id, f"m{i}", None, url=adb)
            for i in range(12)
        )
    )
    for _, previous, message in started:
        assert [m.seq for m in previous] == list(range(0, message.seq, 2))
    assert sorted(message.seq for _, _, message in started) == list(range(2, 26, 2))


async def test_a_reply_saved_after_its_conversation_was_deleted_is_refused(adb):
    conv, _, _ = await run_write(turns.start_turn_sync, "alice", None, "hi", None, url=adb)
    reply = Message(conversation_id=conv.id, seq=1, content="late", status="complete")
    with pytest.raises(store.ConversationNotFound):
        await run_write(turns.save_assistant_message_sync, "mallory", reply, url=adb)
    async with session_scope(adb) as session:
        await delete_conversation(session, "alice", conv.id)
    with pytest.raises(store.ConversationNotFound):
        await run_write(turns.save_assistant_message_sync, "alice", reply, url=adb)


async def test_a_saved_reply_dates_its_conversation(adb):
    conv, _, _ = await run_write(turns.start_turn_sync, "alice", None, "hi", None, url=adb)
    reply = Message(conversation_id=conv.id, seq=1, content="hello", status="complete")
    await run_write(turns.save_assistant_message_sync, "alice", reply, url=adb)
    found, history = await run_read(turns.history_sync, "alice", conv.id, url=adb)
    assert [(m.seq, m.role, m.content) for m in history] == [
        (0, "user", "hi"),
        (1, "assistant", "hello"),
    ]
    assert as_utc(found.updated_at) > as_utc(conv.updated_at)
