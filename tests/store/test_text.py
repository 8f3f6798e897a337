"""Text every backend stores (store/text.py), and every write path that applies it, on SQLite
and PostgreSQL: lone surrogates become U+FFFD, NUL is dropped, all else is kept as is."""

from __future__ import annotations

import pytest

from ai_chat.config import async_url
from ai_chat.store import conversation_list, turns
from ai_chat.store import conversations as store
from ai_chat.store.db import run_read, run_write, session_scope
from ai_chat.store.models import MessageRow
from ai_chat.store.text import clean_optional, clean_text

OWNER = "text-tester"


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("\ud800", "\ufffd"),
        ("\udfff", "\ufffd"),
        ("a\ud800b\udc00c", "a\ufffdb\ufffdc"),
        ("\ude00\ud83d", "\ufffd\ufffd"),  # a pair the wrong way round is two lone halves
        ("\ud83d\ude00", "😀"),  # a pair held as two code points is its character
        ("a\x00b\x00", "ab"),
        ("é\x00\ud800", "é\ufffd"),
        ("", ""),
    ],
)
def test_lone_surrogates_are_replaced_and_nul_dropped(text, cleaned):
    assert clean_text(text) == cleaned
    cleaned.encode("utf-8")  # what every driver and the socket need


@pytest.mark.parametrize(
    "text",
    [
        "plain ascii",
        "\x01\x07\x1b[31m\x7f controls",
        "\u202eRTL \u200d\u200b\ufeff zero width",
        "😀 𝕏 \U0010fffd astral",
        "A\u030a combining, \ufffe\uffff noncharacters",
        "line\r\nseparators\u2028\u2029",
    ],
)
def test_everything_else_is_kept_as_is(text):
    assert clean_text(text) is text  # not even copied
    assert clean_optional(text) is text and clean_optional(None) is None


@pytest.fixture
def adb(db_url: str) -> str:
    return async_url(db_url)


HOSTILE = "a\x00b \ud800 \ude00\ud83d \ud83d\ude00 \u202e end"
CLEANED = "ab \ufffd \ufffd\ufffd 😀 \u202e end"


async def test_a_turn_stores_cleaned_text_and_returns_what_it_stored(adb):
    conversation, _, user = await run_write(
        turns.start_turn_sync, OWNER, None, HOSTILE, None, url=adb
    )
    assert user.content == CLEANED and conversation.title == CLEANED
    again = await run_write(turns.add_user_message_sync, OWNER, conversation.id, HOSTILE, url=adb)
    assert again.content == CLEANED
    reply = MessageRow(
        conversation.id,
        user.seq + 1,
        "assistant",
        content=HOSTILE,
        thinking=HOSTILE,
        error=HOSTILE,
        status="failed",
    )
    saved = await run_write(turns.save_assistant_message_sync, OWNER, reply, url=adb)
    assert (saved.content, saved.thinking, saved.error) == (CLEANED, CLEANED, CLEANED)
    _, history = await run_read(turns.history_sync, OWNER, conversation.id, url=adb)
    assert [m.content for m in history] == [CLEANED, CLEANED, CLEANED]


async def test_titles_settings_and_searches_take_hostile_text(adb):
    async with session_scope(adb) as session:
        conversation = await store.create_conversation(
            session, OWNER, HOSTILE, {"system_prompt": HOSTILE, "model": "claude-sonnet-5-5"}
        )
        cid = conversation.id
    async with session_scope(adb) as session:
        stored = await store.require_conversation(session, OWNER, cid)
        assert (stored.title, stored.system_prompt) == (CLEANED, CLEANED)
        await store.update_settings(session, OWNER, cid, {"system_prompt": "x\x00\udc00"})
        renamed = await conversation_list.rename_conversation(session, OWNER, cid, "t\x00\ud800")
        assert renamed.title == "t\ufffd"
    async with session_scope(adb) as session:
        stored = await store.require_conversation(session, OWNER, cid)
        assert (stored.title, stored.system_prompt) == ("t\ufffd", "x\ufffd")
        found = await conversation_list.list_conversations(session, OWNER, "t\x00\ud800")
        assert [c.id for c in found] == [cid]
        assert await conversation_list.list_conversations(session, OWNER, "\x00") != []
        assert await conversation_list.list_conversations(session, OWNER, "\udc00x") == []
