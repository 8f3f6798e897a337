"""Turns at once: many on the embedded SQLite database (none may fail on a lock), and two
in one conversation (two tabs), where neither reply may be lost.

One reply per conversation is a limit now (tests/generation/test_limits.py); two at once
in one conversation still happen across workers while Redis is down (each worker then
limits on its own), so the second tab's turn runs on such a worker here."""

from __future__ import annotations

import asyncio
import dataclasses

from ai_chat.generation.job import TurnStarted
from ai_chat.generation.live_reply import LiveSnapshot
from tests.conftest import wait_until
from tests.generation.helpers import (
    make_job,
    run_turn,
    start_turn,
    stored_messages,
    worker_apart,
)


async def test_concurrent_turns_all_persist_on_sqlite(app_env, sim):
    # 400 turns of one owner at once: a load test of the store, not of the limits.
    app_env(limit_messages_per_minute="0", limit_concurrent_replies="0")
    first = [run_turn(make_job(f"turn {i} [[sim tokens=5 tps=1000 ttft=0]]")) for i in range(200)]
    results = await asyncio.gather(*first)
    # ...and a second wave into the same conversations, while writes overlap
    second = [
        run_turn(make_job(f"again {i} [[sim tokens=5 tps=1000 ttft=0]]", r.started.conversation_id))
        for i, r in enumerate(results)
    ]
    results2 = await asyncio.gather(*second)
    statuses = [r.finished.message.status for r in results + results2]
    errors = [r.finished.message.error for r in results + results2 if r.finished.message.error]
    assert statuses == ["complete"] * 400, errors[:3]
    for r in results:
        rows = await stored_messages(r.started.conversation_id)
        assert [m.status for m in rows] == ["complete"] * 4


async def _first_text(updates: list) -> None:
    await wait_until(
        lambda: any(isinstance(u, LiveSnapshot) and u.text for u in updates),
        what="the long reply's first text",
    )


async def test_two_tabs_asking_in_one_conversation_keep_both_replies_in_order(app_env, sim, db_url):
    app_env(db_url=db_url)
    first = await run_turn(make_job("hello [[sim tokens=3 tps=1000 ttft=0]]"))
    cid = first.started.conversation_id
    # Tab one's reply streams for a second; tab two asks and gets its reply meanwhile.
    long_task, long_updates = start_turn(make_job("one [[sim tokens=20 tps=20 ttft=0]]", cid))
    await _first_text(long_updates)
    two = make_job("two [[sim tokens=3 tps=1000 ttft=0]]", cid)
    short = await run_turn(two, service=worker_apart())
    long = await long_task
    assert long.finished.save_error is None and short.finished.save_error is None
    assert long.finished.message.status == short.finished.message.status == "complete"
    rows = await stored_messages(cid)
    assert [(m.role, m.content[:3]) for m in rows] == [
        ("user", "hel"),
        ("assistant", first.finished.message.content[:3]),
        ("user", "one"),
        ("assistant", long.finished.message.content[:3]),
        ("user", "two"),
        ("assistant", short.finished.message.content[:3]),
    ]
    assert rows[3].id == long.finished.message.id and rows[5].id == short.finished.message.id


async def test_a_reply_that_ends_after_its_question_was_edited_stays_on_its_branch(
    app_env, sim, db_url
):
    app_env(db_url=db_url)
    first = await run_turn(make_job("hello [[sim tokens=3 tps=1000 ttft=0]]"))
    cid = first.started.conversation_id
    long_task, long_updates = start_turn(make_job("one [[sim tokens=20 tps=20 ttft=0]]", cid))
    await _first_text(long_updates)
    # Another tab edits "hello" while the reply streams (a new version beside it) and asks
    # again: that branch goes on, the streaming reply ends in place on its own.
    edit = make_job("hello again [[sim tokens=3 tps=1000 ttft=0]]", cid)
    edit = dataclasses.replace(edit, version_of=first.started.user_message.id)
    other = worker_apart()
    edited = await run_turn(edit, service=other)
    again = await run_turn(make_job("more [[sim tokens=3 tps=1000 ttft=0]]", cid), service=other)
    assert [t.content.split(" [[")[0] for t in again.started.history] == [
        "hello again",
        edited.finished.message.content,
    ]
    long = await long_task
    assert long.finished.save_error is None
    rows = await stored_messages(cid)
    streaming = next(u for u in long_updates if isinstance(u, TurnStarted))
    assert [m.id for m in rows] == [
        first.started.user_message.id,
        first.finished.message.id,
        streaming.user_message.id,
        long.finished.message.id,
        edited.started.user_message.id,
        edited.finished.message.id,
        again.started.user_message.id,
        again.finished.message.id,
    ]
    assert rows[3].content == long.finished.message.content and rows[3].status == "complete"
    assert rows[3].parent_id == streaming.user_message.id
    assert [m.active for m in rows] == [False, True, True, True, True, True, True, True]
