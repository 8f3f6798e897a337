"""Owner-scoped queries on SQLite and the local PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from ai_chat.config import async_url
from ai_chat.store import conversations as store
from ai_chat.store import turns
from ai_chat.store.db import session_scope
from ai_chat.store.models import Message, MessageStatus


@pytest.fixture
def adb(db_url: str) -> str:
    return async_url(db_url)


async def test_turns_are_stored_in_order_with_all_fields(adb):
    async with session_scope(adb) as s:
        conv = await store.create_conversation(s, "alice")
        user = await turns.add_user_message(s, "alice", conv.id, "What is 2+2?")
        await turns.save_assistant_message(
            s,
            "alice",
            Message(
                conversation_id=conv.id,
                seq=user.seq + 1,
                role="assistant",
                content="4",
                status=MessageStatus.COMPLETE.value,
                model="claude-x",
                stop_reason="end_turn",
                input_tokens=10,
                output_tokens=1,
                request_id="req_1",
            ),
        )
    async with session_scope(adb) as s:
        rows = await store.list_messages(s, "alice", conv.id)
        conv_again = await store.get_conversation(s, "alice", conv.id)
    assert [(r.seq, r.role, r.content) for r in rows] == [
        (0, "user", "What is 2+2?"),
        (1, "assistant", "4"),
    ]
    assert rows[1].stop_reason == "end_turn" and rows[1].input_tokens == 10
    assert rows[1].completed_at is not None and rows[0].created_at is not None
    assert conv_again.title == "What is 2+2?"


async def test_other_owners_cannot_read_or_write(adb):
    async with session_scope(adb) as s:
        conv = await store.create_conversation(s, "alice")
        await turns.add_user_message(s, "alice", conv.id, "secret")
    async with session_scope(adb) as s:
        assert await store.get_conversation(s, "mallory", conv.id) is None
        with pytest.raises(store.ConversationNotFound):
            await store.list_messages(s, "mallory", conv.id)
        with pytest.raises(store.ConversationNotFound):
            await turns.add_user_message(s, "mallory", conv.id, "injected")
    async with session_scope(adb) as s:
        assert len(await store.list_messages(s, "alice", conv.id)) == 1


async def test_in_flight_statuses_are_never_saved(adb):
    async with session_scope(adb) as s:
        conv = await store.create_conversation(s, "alice")
        with pytest.raises(ValueError):
            await turns.save_assistant_message(
                s,
                "alice",
                Message(conversation_id=conv.id, seq=1, role="assistant", status="streaming"),
            )


async def test_order_key_is_unique_per_conversation(adb):
    with pytest.raises(IntegrityError):
        async with session_scope(adb) as s:
            conv = await store.create_conversation(s, "alice")
            await turns.add_user_message(s, "alice", conv.id, "a")
            s.add(Message(conversation_id=conv.id, seq=0, role="assistant"))
            await s.flush()


async def test_long_titles_are_shortened(adb):
    async with session_scope(adb) as s:
        conv = await store.create_conversation(s, "alice")
        await turns.add_user_message(s, "alice", conv.id, "word " * 100)
    assert len(conv.title) <= 60 and conv.title.endswith("…")
