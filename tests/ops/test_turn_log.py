"""The JSON line and the metrics of real turns (the SDK over HTTP against the simulator)."""

from __future__ import annotations

import asyncio

from ai_chat.generation.job import ReplySaved, TurnFinished, TurnStarted
from ai_chat.ops import metrics
from ai_chat.ops.turn_log import TurnObserver
from ai_chat.store.models import MessageRow
from tests.conftest import wait_until
from tests.generation.helpers import OWNER, make_job, run_turn, start_turn, unique_tag

FIELDS = {
    "event", "ts", "user", "conversation", "generation", "model", "request_id", "status",
    "tokens_in", "tokens_out", "tokens_out_estimated", "first_token_ms", "total_ms",
    "error_kind", "saved",
}  # fmt: skip


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_complete_turn_writes_one_line_and_counts(app_env, sim, turn_lines):
    before = {
        "complete": sample("ai_chat_turns_total", status="complete"),
        "first": sample("ai_chat_first_token_seconds_count"),
        "duration": sample("ai_chat_turn_duration_seconds_count"),
        "in_flight": sample("ai_chat_replies_in_flight"),
    }
    tag = unique_tag()
    job = make_job(f"hello [[sim tokens=30 tps=300 ttft=0.05 tag={tag}]]")
    result = await run_turn(job)
    final = result.finished.message

    (line,) = turn_lines()
    assert set(line) == FIELDS
    assert line["event"] == "turn" and line["user"] == OWNER
    assert line["conversation"] == result.started.conversation_id
    assert line["generation"] == job.generation_id
    assert line["model"] == final.model
    assert line["request_id"] == final.request_id and final.request_id
    assert line["status"] == "complete" and line["saved"] is True
    assert line["tokens_in"] == final.input_tokens and line["tokens_out"] == final.output_tokens
    assert line["tokens_out"] == 30 and line["tokens_out_estimated"] is False
    assert line["error_kind"] is None
    assert 0 < line["first_token_ms"] <= line["total_ms"]

    assert sample("ai_chat_turns_total", status="complete") == before["complete"] + 1
    assert sample("ai_chat_first_token_seconds_count") == before["first"] + 1
    assert sample("ai_chat_turn_duration_seconds_count") == before["duration"] + 1
    assert sample("ai_chat_replies_in_flight") == before["in_flight"]


async def test_replies_in_flight_and_a_turn_whose_tab_went_away(app_env, sim, turn_lines):
    base = sample("ai_chat_replies_in_flight")
    task, updates = start_turn(make_job("long [[sim tokens=150 tps=100 ttft=0]]"))
    await wait_until(lambda: any(getattr(u, "text", "") for u in updates), what="first text")
    assert sample("ai_chat_replies_in_flight") == base + 1
    task.cancel()  # the tab's consumer goes away mid-reply: the turn runs on to its end
    await asyncio.gather(task, return_exceptions=True)
    await wait_until(lambda: len(turn_lines()) == 1, timeout=20, what="the turn's line")
    (line,) = turn_lines()
    assert line["status"] == "complete" and line["saved"] is True
    assert line["tokens_out"] == 150
    assert sample("ai_chat_replies_in_flight") == base


async def test_an_upstream_error_is_counted_by_kind(app_env, sim, turn_lines):
    before = sample("ai_chat_upstream_errors_total", kind="overloaded")
    failed = sample("ai_chat_turns_total", status="failed")
    result = await run_turn(make_job("hi [[sim error=529 retry_after=7]]"))
    assert result.finished.message.status == "failed"
    (line,) = turn_lines()
    assert line["status"] == "failed" and line["error_kind"] == "overloaded"
    assert line["request_id"]  # the error's request-id, for Anthropic support
    assert line["first_token_ms"] is None
    assert sample("ai_chat_upstream_errors_total", kind="overloaded") == before + 1
    assert sample("ai_chat_turns_total", status="failed") == failed + 1


async def test_a_limit_refusal_is_not_an_upstream_error(app_env, sim, turn_lines):
    app_env(limit_messages_per_minute="1")
    refused = sample("ai_chat_turns_total", status="refused")
    await run_turn(make_job("one [[sim tokens=3 tps=1000 ttft=0]]"))
    result = await run_turn(make_job("two [[sim tokens=3 tps=1000 ttft=0]]"))
    assert result.finished.user_turn_saved is False
    first, second = turn_lines()
    assert first["status"] == "complete"
    assert second["status"] == "refused" and second["error_kind"] == "limit"
    assert second["saved"] is False and second["request_id"] is None
    assert sample("ai_chat_turns_total", status="refused") == refused + 1
    assert sample("ai_chat_upstream_errors_total", kind="limit") == 0


def test_a_reply_stored_after_retries_gets_its_line_once_saved(turn_lines):
    """TurnFinished(save_pending) then ReplySaved: one line, when the save is decided."""
    job = make_job("x")
    row = MessageRow(conversation_id="c1", seq=1, role="assistant", content="hi", status="complete")
    for saved in (True, False):
        observer = TurnObserver(job)
        observer.update(
            TurnStarted("c1", MessageRow(conversation_id="c1", seq=0, role="user"), False)
        )
        observer.update(TurnFinished(row, save_pending=True))
        assert len(turn_lines()) == (0 if saved else 1)
        observer.update(ReplySaved(row.id, saved=saved))
        observer.end()  # the turn's task ends: no second line
    first, second = turn_lines()
    assert first["status"] == second["status"] == "complete"
    assert first["saved"] is True and second["saved"] is False
