"""The turn path's writes when turns overlap in one conversation (two tabs), on SQLite and
PostgreSQL: every reply is kept, next to its question when it can be, on the branch shown."""

from __future__ import annotations

import pytest

from ai_chat.config import async_url
from ai_chat.store import conversations as store
from ai_chat.store import turns
from ai_chat.store.db import run_read, run_write
from ai_chat.store.models import MessageRow


@pytest.fixture
def adb(db_url: str) -> str:
    return async_url(db_url)


def _reply(conversation_id: str, seq: int, content: str) -> MessageRow:
    return MessageRow(conversation_id, seq, "assistant", content=content, status="complete")


async def _turns_of(adb: str, conversation_id: str) -> list[tuple[str, str]]:
    _, history = await run_read(turns.history_sync, "alice", conversation_id, url=adb)
    return [(m.role, m.content) for m in history]


async def test_two_questions_sent_before_either_reply_each_get_their_reply_next(adb):
    conv, _, _ = await run_write(turns.start_turn_sync, "alice", None, "q0", None, url=adb)
    await run_write(turns.save_assistant_message_sync, "alice", _reply(conv.id, 1, "a0"), url=adb)
    # Tab one asks, then tab two asks while tab one's reply still streams.
    one = await run_write(turns.add_user_message_sync, "alice", conv.id, "q1", url=adb)
    _, before_two, two = await run_write(
        turns.start_turn_sync, "alice", conv.id, "q2", None, url=adb
    )
    assert [m.content for m in before_two] == ["q0", "a0", "q1"]
    # Tab two's short reply ends first; each reply goes to its question's next seq.
    await run_write(
        turns.save_assistant_message_sync, "alice", _reply(conv.id, two.seq + 1, "a2"), url=adb
    )
    await run_write(
        turns.save_assistant_message_sync, "alice", _reply(conv.id, one.seq + 1, "a1"), url=adb
    )
    assert await _turns_of(adb, conv.id) == [
        ("user", "q0"),
        ("assistant", "a0"),
        ("user", "q1"),
        ("assistant", "a1"),
        ("user", "q2"),
        ("assistant", "a2"),
    ]


async def test_a_reply_whose_row_is_gone_is_kept_at_the_end_of_the_branch_shown(adb):
    reply = MessageRow("", -1, "assistant", status="thinking")
    conv, _, question = await run_write(
        turns.start_turn_sync, "alice", None, "q", None, None, None, reply, url=adb
    )
    # Its row removed meanwhile (nothing in the app deletes a turn now; the store still can).
    await run_write(store.truncate_from_sync, "alice", conv.id, reply.id, url=adb)
    ended = _reply(conv.id, reply.seq, "late reply")
    ended.id = reply.id
    await run_write(turns.finish_assistant_message_sync, "alice", ended, url=adb)
    assert ended.parent_id == question.id
    late = _reply(conv.id, 0, "appended")
    await run_write(turns.append_assistant_message_sync, "alice", late, url=adb)
    assert late.seq == ended.seq + 1 and late.parent_id == ended.id
    assert await _turns_of(adb, conv.id) == [
        ("user", "q"),
        ("assistant", "late reply"),
        ("assistant", "appended"),
    ]


def test_a_user_turn_after_a_user_turn_leaves_a_seq_for_its_reply():
    assert turns.user_seq_after(None) == 0
    assert turns.user_seq_after(_reply("c", 3, "a")) == 4  # after a reply: the next seq
    assert turns.user_seq_after(MessageRow("c", 4, "user")) == 6  # after a question: one more
