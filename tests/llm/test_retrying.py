"""A retried start is said: `stream_reply` yields `ReplyRetrying` before each wait."""

from __future__ import annotations

from contextlib import aclosing

import pytest

from ai_chat.llm.errors import ReplyError
from ai_chat.llm.events import ReplyRetrying, ReplyStarted
from ai_chat.llm.stream import ReplyRequest, RetryPolicy, stream_reply
from tests.llm.conftest import client_for


def _request(prompt: str) -> ReplyRequest:
    return ReplyRequest(
        model="claude-sonnet-5-5", messages=[{"role": "user", "content": prompt}], max_tokens=400
    )


async def test_each_retry_is_announced_with_its_number_then_the_error(sim):
    client = client_for(sim.base_url, "tuned")
    seen: list[object] = []
    policy = RetryPolicy(max_retries=2, max_wait_s=5)
    try:
        with pytest.raises(ReplyError) as failure:
            prompt = "busy [[sim error=529 retry_after=0.05]]"
            async with aclosing(stream_reply(client, _request(prompt), policy)) as events:
                async for event in events:
                    seen.append(event)
    finally:
        await client.close()
    assert [(e.attempt, e.max_retries, e.reason) for e in seen if isinstance(e, ReplyRetrying)] == [
        (1, 2, "overloaded"),
        (2, 2, "overloaded"),
    ]
    assert all(isinstance(e, ReplyRetrying) and e.wait_s == pytest.approx(0.05) for e in seen)
    assert failure.value.kind == "overloaded"


async def test_no_retry_event_when_the_first_try_works_or_retrying_is_off(sim):
    client = client_for(sim.base_url, "tuned")
    try:
        prompt = "fine [[sim tokens=5 tps=1000 ttft=0]]"
        async with aclosing(stream_reply(client, _request(prompt), RetryPolicy())) as events:
            seen = [event async for event in events]
        assert isinstance(seen[0], ReplyStarted)
        assert not any(isinstance(event, ReplyRetrying) for event in seen)
        no_retries = RetryPolicy(max_retries=0)
        with pytest.raises(ReplyError):
            prompt = "busy [[sim error=529 retry_after=0.05]]"
            async with aclosing(stream_reply(client, _request(prompt), no_retries)) as events:
                assert [event async for event in events] == []
    finally:
        await client.close()
