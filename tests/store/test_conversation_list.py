"""Sidebar queries: newest first, search by title and text, rename, delete, truncate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ai_chat.config import async_url
from ai_chat.store import conversation_list as lists
from ai_chat.store import conversations as store
from ai_chat.store import turns
from ai_chat.store.db import session_scope
from ai_chat.store.models import Message, utcnow


@pytest.fixture
def adb(db_url: str) -> str:
    return async_url(db_url)


async def _conversation(adb, owner: str, first: str, age_minutes: int) -> str:
    async with session_scope(adb) as s:
        conv = await store.create_conversation(s, owner)
        await turns.add_user_message(s, owner, conv.id, first)
        conv.updated_at = utcnow() - timedelta(minutes=age_minutes)
        s.add(conv)
        return conv.id


async def test_newest_activity_first_and_paginated(adb):
    ids = [await _conversation(adb, "alice", f"topic {i}", age_minutes=i) for i in range(5)]
    await _conversation(adb, "bob", "not yours", 0)
    async with session_scope(adb) as s:
        page1 = await lists.list_conversations(s, "alice", limit=3)
        page2 = await lists.list_conversations(s, "alice", limit=3, offset=3)
    assert [c.id for c in page1 + page2] == ids
    assert page1[0].title == "topic 0"


async def test_search_matches_titles_and_message_text_case_insensitively(adb):
    a = await _conversation(adb, "alice", "Pasta recipes", 1)
    b = await _conversation(adb, "alice", "Travel plans", 2)
    await _conversation(adb, "bob", "pasta for bob", 0)
    async with session_scope(adb) as s:
        await turns.save_assistant_message(
            s,
            "alice",
            Message(
                conversation_id=b,
                seq=1,
                role="assistant",
                content="Try the PASTA in Rome",
                status="complete",
            ),
        )
    async with session_scope(adb) as s:
        found = await lists.list_conversations(s, "alice", query="pasta")
        none = await lists.list_conversations(s, "alice", query="100%_")
    assert {c.id for c in found} == {a, b}
    assert none == []


async def test_rename_and_delete_are_owner_scoped(adb):
    cid = await _conversation(adb, "alice", "old title", 0)
    async with session_scope(adb) as s:
        with pytest.raises(store.ConversationNotFound):
            await lists.rename_conversation(s, "mallory", cid, "pwned")
        with pytest.raises(ValueError):
            await lists.rename_conversation(s, "alice", cid, "   ")
        await lists.rename_conversation(s, "alice", cid, "  New   title ")
    async with session_scope(adb) as s:
        assert (await store.get_conversation(s, "alice", cid)).title == "New title"
        with pytest.raises(store.ConversationNotFound):
            await lists.delete_conversation(s, "mallory", cid)
    async with session_scope(adb) as s:
        await lists.delete_conversation(s, "alice", cid)
    async with session_scope(adb) as s:
        assert await store.get_conversation(s, "alice", cid) is None
        assert await lists.list_conversations(s, "alice") == []


async def test_truncate_removes_a_turn_and_everything_after(adb):
    cid = await _conversation(adb, "alice", "one", 0)
    async with session_scope(adb) as s:
        two = await turns.add_user_message(s, "alice", cid, "two")
        await turns.add_user_message(s, "alice", cid, "three")
    async with session_scope(adb) as s:
        assert await store.truncate_from(s, "alice", cid, two.id) == 2
    async with session_scope(adb) as s:
        assert [m.content for m in await store.list_messages(s, "alice", cid)] == ["one"]


async def test_a_thousand_conversations_page_in_fifties(adb):
    from ai_chat.store.models import Conversation

    async with session_scope(adb) as s:
        base = utcnow()
        s.add_all(
            Conversation(
                owner="alice", title=f"chat {i:04d}", updated_at=base - timedelta(seconds=i)
            )
            for i in range(1000)
        )
    seen: list[str] = []
    async with session_scope(adb) as s:
        for offset in range(0, 1000, 50):
            page = await lists.list_conversations(s, "alice", limit=50, offset=offset)
            assert len(page) == 50
            seen += [c.title for c in page]
        assert await lists.list_conversations(s, "alice", limit=50, offset=1000) == []
    assert seen == [f"chat {i:04d}" for i in range(1000)]  # newest first, none twice
