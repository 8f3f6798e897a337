"""`stream_reply` against the simulator over real HTTP, with the SDK sending the request."""

from __future__ import annotations

from contextlib import aclosing

from ai_chat.config import load_settings
from ai_chat.llm.client import make_client
from ai_chat.llm.events import ReplyFinished, ReplyStarted, TextDelta
from ai_chat.llm.stream import ReplyRequest, RetryPolicy, stream_reply
from ai_chat.simulator.script import reply_text


def _request(prompt: str) -> ReplyRequest:
    return ReplyRequest(
        model="claude-sonnet-5-5", messages=[{"role": "user", "content": prompt}], max_tokens=4000
    )


async def _collect(sim, prompt: str, pace=None) -> list:
    client = make_client(load_settings({"ANTHROPIC_BASE_URL": sim.base_url}))
    async with aclosing(stream_reply(client, _request(prompt), RetryPolicy(), pace=pace)) as ev:
        return [event async for event in ev]


async def test_events_carry_the_whole_reply_and_its_usage(sim):
    events = await _collect(sim, "Tell me [[sim tokens=60 tps=2000 ttft=0]]")
    started, *deltas, finished = events
    assert isinstance(started, ReplyStarted) and started.input_tokens > 0 and started.request_id
    assert all(isinstance(d, TextDelta) for d in deltas)
    # Deltas read together come joined; their numbering has no gap and no overlap.
    assert [d.index for d in deltas] == [
        sum(d.count for d in deltas[:k]) for k in range(len(deltas))
    ]
    assert sum(d.count for d in deltas) == 60
    assert "".join(d.text for d in deltas) == reply_text("Tell me", 60)
    assert finished == ReplyFinished(stop_reason="end_turn", output_tokens=60)


async def test_pace_runs_between_reads_and_lets_chunks_pile_up(sim):
    """A pacer that waits makes each socket read take many tokens at once (the kernel holds
    them meanwhile); the text is the same."""
    import asyncio

    prompt = "Count [[sim tokens=100 tps=200 ttft=0]]"  # one frame per token, 5 ms apart
    unpaced_reads = 0

    async def count() -> None:
        nonlocal unpaced_reads
        unpaced_reads += 1

    paced_reads = 0

    async def wait() -> None:
        nonlocal paced_reads
        paced_reads += 1
        await asyncio.sleep(0.1)

    unpaced = await _collect(sim, prompt, pace=count)
    paced = await _collect(sim, prompt, pace=wait)
    text = [
        "".join(e.text for e in events if isinstance(e, TextDelta)) for events in (unpaced, paced)
    ]
    assert text[0] == text[1] == reply_text("Count", 100)
    assert unpaced_reads > 30  # about one socket wait per token when nobody waits
    assert paced_reads < 15  # 0.5 s of tokens read every 0.1 s


async def test_paced_reads_hand_the_decoder_one_merged_chunk_per_read(sim, monkeypatch):
    """The chunks of one socket read reach the event-stream decoder as one (the HTTP layers
    run once per read, not once per token); unpaced, every token is its own chunk."""
    import asyncio

    from ai_chat.llm import sse

    feeds = 0
    feed = sse.SSEDecoder.feed

    def counting_feed(self, chunk: bytes):
        nonlocal feeds
        feeds += 1
        return feed(self, chunk)

    monkeypatch.setattr(sse.SSEDecoder, "feed", counting_feed)

    async def wait() -> None:
        await asyncio.sleep(0.1)

    prompt = "Merge [[sim tokens=100 tps=200 ttft=0]]"
    unpaced = await _collect(sim, prompt)
    unpaced_feeds, feeds = feeds, 0
    paced = await _collect(sim, prompt, pace=wait)
    paced_deltas = [e for e in paced if isinstance(e, TextDelta)]
    unpaced_deltas = [e for e in unpaced if isinstance(e, TextDelta)]
    assert "".join(e.text for e in paced_deltas) == "".join(e.text for e in unpaced_deltas)
    assert sum(e.count for e in paced_deltas) == sum(e.count for e in unpaced_deltas) == 100
    assert unpaced_feeds > 30  # about one chunk per token when nobody waits
    assert feeds < 15  # 0.5 s of tokens read every 0.1 s
    assert len(paced_deltas) < 15  # and each read's deltas reach the consumer joined
