"""A turn against the simulator over real HTTP with the real SDK, stored in SQLite."""

from __future__ import annotations

from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.simulator.script import reply_text
from ai_chat.store.models import MessageStatus
from tests.generation.helpers import make_job, run_turn, stored_messages, unique_tag


async def test_turn_streams_to_completion_and_is_stored_once(app_env, sim):
    tag = unique_tag()
    result = await run_turn(make_job(f"Hello there [[sim tokens=120 tps=400 ttft=0 tag={tag}]]"))

    final = result.finished.message
    expected = reply_text("Hello there", 120)
    assert final.status == MessageStatus.COMPLETE.value
    assert final.content == expected
    assert final.output_tokens == 120 and not final.output_tokens_estimated
    assert final.stop_reason == "end_turn"
    assert final.input_tokens and final.input_tokens > 0
    # every snapshot is a prefix of the final text: nothing lost, duplicated or reordered
    for snap in result.snapshots:
        assert expected.startswith(snap.text)

    rows = await stored_messages(result.started.conversation_id)
    assert [(r.role, r.status) for r in rows] == [("user", "complete"), ("assistant", "complete")]
    assert rows[1].content == expected
    assert rows[1].seq == rows[0].seq + 1
    (record,) = sim.recorder.find(tag)
    assert record.outcome == "complete"


async def test_pushes_are_coalesced_but_first_token_goes_at_once(app_env):
    app_env(push_interval_ms="100")
    # 400 tokens at 400 tok/s ≈ 1 s: ~10 pushes at 100 ms, not 400
    result = await run_turn(make_job("count [[sim tokens=400 tps=400 ttft=0.3]]"))
    texts = [s for s in result.snapshots if s.text]
    assert result.finished.message.status == "complete"
    assert 2 <= len(texts) <= 30, len(texts)
    # the first snapshot with text carries just the first delta(s): it was not held back
    assert len(texts[0].text) <= 3 * 4, texts[0].text


async def test_history_is_built_from_the_db_and_user_text_reaches_claude_once(app_env, sim, db_url):
    # SQLite reads the history apart from the write; PostgreSQL in the same transaction.
    app_env(db_url=db_url)
    first = await run_turn(make_job("First question [[sim tokens=20 tps=500 ttft=0]]"))
    cid = first.started.conversation_id
    tag = unique_tag()
    second = await run_turn(
        make_job(f"Second question [[sim tokens=20 tps=500 ttft=0 tag={tag}]]", cid)
    )
    assert second.finished.message.status == "complete"
    assert second.started.title == first.started.title
    assert first.started.title.startswith("First question")
    assert not second.started.created_conversation
    (record,) = sim.recorder.find(tag)
    roles = [m["role"] for m in record.messages]
    assert roles == ["user", "assistant", "user"]
    contents = [m["content"] for m in record.messages]
    assert contents[0].startswith("First question")
    assert contents[1] == first.finished.message.content
    assert sum("Second question" in c for c in contents) == 1

    rows = await stored_messages(cid)
    assert [r.seq for r in rows] == [0, 1, 2, 3]


async def test_thinking_snapshot_precedes_the_first_token(app_env):
    app_env(push_interval_ms="20")
    # A silent 1.5 s before the first token: the elapsed tick pushes a 'thinking' snapshot.
    result = await run_turn(make_job("slow start [[sim tokens=5 tps=200 ttft=1.5]]"))
    statuses = [s.status for s in result.snapshots if isinstance(s, LiveSnapshot)]
    assert statuses[0] == "thinking"
    assert "streaming" in statuses
    assert result.finished.message.status == "complete"


async def test_no_snapshot_moves_only_the_elapsed_time_but_the_silent_tick(app_env):
    app_env(push_interval_ms="20")
    # The stream opens at once (message_start), then 0.3 s of silence: the tab already shows
    # "thinking" from the send, so the first snapshot is the first text.
    quick = await run_turn(make_job("quick [[sim tokens=5 tps=200 ttft=0.3]]"))
    assert quick.snapshots[0].text and quick.snapshots[0].status == "streaming"
    # 1.5 s of silence: the tick shows the elapsed time while nothing else changes.
    slow = await run_turn(make_job("slow [[sim tokens=5 tps=200 ttft=1.5]]"))
    silent = [s for s in slow.snapshots if not s.text]
    assert silent and all(s.status == "thinking" for s in silent)
    assert silent[0].elapsed_s >= 0.9  # the tick's, not the opening frame's
    shown = [(s.text, s.status, s.output_tokens, s.elapsed_s) for s in slow.snapshots]
    assert len(shown) == len(set(shown))  # every snapshot shows something new


async def test_turns_persist_on_postgres(app_env, postgres_url, sim):
    from ai_chat.store import migrations
    from tests.conftest import sync_url

    migrations.upgrade(sync_url(postgres_url))
    app_env(db_url=postgres_url)
    first = await run_turn(make_job("on postgres [[sim tokens=30 tps=1000 ttft=0]]"))
    cid = first.started.conversation_id
    await run_turn(make_job("again [[sim tokens=30 tps=1000 ttft=0]]", cid))
    rows = await stored_messages(cid)
    assert [(r.seq, r.role, r.status) for r in rows] == [
        (0, "user", "complete"),
        (1, "assistant", "complete"),
        (2, "user", "complete"),
        (3, "assistant", "complete"),
    ]
    assert rows[1].content == reply_text("on postgres", 30)
