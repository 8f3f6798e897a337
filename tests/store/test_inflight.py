"""Replies in flight in the store, on SQLite and PostgreSQL: the reply's row is written with
its question, checkpointed (appended), leased, updated by id at its end, recovered as
interrupted once its lease has passed, and never overwritten once it has ended."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ai_chat.config import async_url
from ai_chat.store import branches, conversations, inflight, turns
from ai_chat.store.columns import as_utc
from ai_chat.store.db import run_read, run_write
from ai_chat.store.models import MessageRow, utcnow

OWNER = "alice"


@pytest.fixture
def adb(db_url: str) -> str:
    return async_url(db_url)


def in_flight(lease_s: float = 5.0) -> MessageRow:
    return MessageRow(
        "", -1, "assistant", status="thinking", lease_until=utcnow() + timedelta(seconds=lease_s)
    )


async def _rows(adb: str, conversation_id: str):
    return await run_read(conversations.list_messages_sync, OWNER, conversation_id, url=adb)


async def _start(adb: str, text: str = "q", conversation_id: str | None = None, lease_s=5.0):
    reply = in_flight(lease_s)
    conv, _, user = await run_write(
        turns.start_turn_sync, OWNER, conversation_id, text, None, None, None, reply, url=adb
    )
    return conv, user, reply


def _ended(reply: MessageRow, content: str, status: str = "complete") -> MessageRow:
    return MessageRow(
        reply.conversation_id, reply.seq, "assistant", id=reply.id, content=content, status=status
    )


async def test_the_reply_row_is_written_with_its_question_and_updated_at_its_end(adb):
    conv, _, reply = await _start(adb)
    rows = await _rows(adb, conv.id)
    assert [(r.role, r.seq, r.status) for r in rows] == [
        ("user", 0, "complete"),
        ("assistant", 1, "thinking"),
    ]
    assert rows[1].id == reply.id and rows[1].lease_until is not None
    # The next question, on SQLite's path (history read apart, then the write).
    await run_write(turns.finish_assistant_message_sync, OWNER, _ended(reply, "a"), url=adb)
    second = in_flight()
    await run_write(turns.add_user_message_sync, OWNER, conv.id, "q2", None, second, url=adb)
    rows = await _rows(adb, conv.id)
    assert [(r.role, r.content, r.status, r.lease_until) for r in rows[:2]] == [
        ("user", "q", "complete", None),
        ("assistant", "a", "complete", None),
    ]
    assert [(r.seq, r.status) for r in rows[2:]] == [(2, "complete"), (3, "thinking")]
    assert rows[3].id == second.id


async def test_checkpoints_append_renew_the_lease_and_never_touch_an_ended_reply(adb):
    conv, _, reply = await _start(adb)
    later = utcnow() + timedelta(seconds=60)
    first = inflight.Checkpoint(reply.id, "Hello", "hm", "streaming", 2)
    await run_write(inflight.checkpoint_sync, [first], [], later, url=adb)
    more = inflight.Checkpoint(reply.id, ", world", "m", "streaming", 4, append=True)
    await run_write(inflight.checkpoint_sync, [more], [], later, url=adb)
    row = (await _rows(adb, conv.id))[1]
    assert (row.content, row.thinking, row.status, row.output_tokens) == (
        "Hello, world",
        "hmm",
        "streaming",
        4,
    )
    assert as_utc(row.lease_until) > utcnow() + timedelta(seconds=50)

    await run_write(turns.finish_assistant_message_sync, OWNER, _ended(reply, "Done."), url=adb)
    late = inflight.Checkpoint(reply.id, " late", "", "streaming", 9, append=True)
    await run_write(inflight.checkpoint_sync, [late], [reply.id], later, url=adb)
    row = (await _rows(adb, conv.id))[1]
    assert (row.content, row.status, row.lease_until) == ("Done.", "complete", None)


async def test_a_reply_ending_after_its_question_was_edited_stays_on_its_branch(adb):
    conv, question, reply = await _start(adb)
    # Another tab edits the question while the reply streams: a new version beside it.
    _, _, edited = await run_write(
        turns.start_turn_sync,
        OWNER,
        conv.id,
        "q edited",
        None,
        question.id,
        None,
        in_flight(),
        url=adb,
    )
    await run_write(turns.finish_assistant_message_sync, OWNER, _ended(reply, "late"), url=adb)
    rows = await _rows(adb, conv.id)
    assert [(r.role, r.content, r.status, r.active) for r in rows] == [
        ("user", "q", "complete", False),
        ("assistant", "late", "complete", True),  # updated in place, under its question
        ("user", "q edited", "complete", True),
        ("assistant", "", "thinking", True),
    ]
    assert rows[1].parent_id == question.id and rows[2].id == edited.id
    shown = await run_read(branches.active_path_sync, OWNER, conv.id, url=adb)
    assert [r.content for r in shown] == ["q edited", ""]


async def test_expired_leases_are_found_and_interrupted_with_their_text_once(adb):
    conv, _, dead = await _start(adb, lease_s=-1)  # its worker stopped renewing it
    _, _, alive = await _start(adb, "other", conv.id, lease_s=60)
    await run_write(
        inflight.checkpoint_sync,
        [inflight.Checkpoint(dead.id, "partial", "", "streaming", 3)],
        [],
        utcnow() - timedelta(seconds=1),
        url=adb,
    )
    now = utcnow()
    expired = await run_read(inflight.expired_sync, now, url=adb)
    assert [r.id for r in expired] == [dead.id]
    assert expired[0].content == "partial"
    of_conversation = await run_read(inflight.in_flight_of_sync, OWNER, conv.id, url=adb)
    assert {r.id for r in of_conversation} == {dead.id, alive.id}

    rows = [(dead.id, "partial", "", 3), (alive.id, "not dead", "", 1)]
    assert await run_write(inflight.interrupt_sync, rows, now, "gone", url=adb) == 1
    assert await run_write(inflight.interrupt_sync, rows, now, "gone", url=adb) == 0
    stored = {r.id: r for r in await _rows(adb, conv.id)}
    assert (stored[dead.id].status, stored[dead.id].content, stored[dead.id].error) == (
        "interrupted",
        "partial",
        "gone",
    )
    assert stored[dead.id].lease_until is None and stored[dead.id].output_tokens_estimated
    assert stored[alive.id].status == "thinking"  # its lease holds
    assert await run_read(inflight.lease_sync, dead.id, url=adb) == (None, "interrupted")
    assert await run_read(inflight.lease_sync, "nope", url=adb) is None
