"""Live frames for other tabs: in-process, and between two "workers" over real Redis."""

from __future__ import annotations

import uuid

import pytest

from ai_chat.generation import fanout_redis
from ai_chat.generation.fanout import Fanout
from ai_chat.generation.fanout_redis import RedisFanout
from ai_chat.generation.live_reply import LiveSnapshot
from tests.conftest import eventually, redis_or_missing

TEXT = "The quick brown fox jumps over the lazy dog. " * 20


def snap(generation: str, chars: int, thinking: str = "") -> LiveSnapshot:
    return LiveSnapshot(generation, TEXT[:chars], "streaming", chars // 4, chars / 100, thinking)


async def test_in_process_a_watcher_sees_each_push_and_the_end():
    fanout = Fanout()
    await fanout.publish("c1", "m1", snap("g1", 5))  # nobody watches: nothing kept
    assert fanout.watched() == 0
    async with fanout.join("c1") as channel:
        for chars in (10, 20, 40):
            await fanout.publish("c1", "m1", snap("g1", chars))
            assert channel.frame is not None and channel.frame.text == TEXT[:chars]
        await fanout.ended("c1", "g1", "m1", "complete")
        assert channel.frame.ended and channel.frame.status == "complete"
        assert channel.version == 4
    assert fanout.watched() == 0


def _count_publishes(fanout: RedisFanout) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []
    publish = fanout._redis.publish

    async def counted(channel, payload):
        sent.append((channel, payload))
        return await publish(channel, payload)

    fanout._redis.publish = counted  # type: ignore[method-assign]
    return sent


@pytest.mark.redis
async def test_over_redis_a_watcher_on_another_worker_gets_the_text_in_parts(monkeypatch):
    url = await redis_or_missing()
    monkeypatch.setattr(fanout_redis, "PROBE_S", 3600.0)  # one probe, however fast we go
    monkeypatch.setattr(fanout_redis, "FULL_EVERY_S", 3600.0)  # parts only, once synced
    owner, watcher = RedisFanout(url), RedisFanout(url)
    cid, gid = uuid.uuid4().hex, uuid.uuid4().hex
    sent = _count_publishes(owner)
    try:
        for chars in (4, 8, 12):  # nobody watches: one small probe, no text
            await owner.publish(cid, "m1", snap(gid, chars))
        assert len(sent) == 1 and '"t":""' in sent[0][1]

        async with watcher.join(cid) as channel:
            monkeypatch.setattr(fanout_redis, "PROBE_S", 0.0)  # the next probe finds it
            await owner.publish(cid, "m1", snap(gid, 100, thinking="hmm"))

            async def has(chars: int) -> bool:
                frame = channel.frame
                return frame is not None and frame.text == TEXT[:chars]

            await eventually(lambda: has(100), what="the whole text on the other worker")
            assert channel.frame.thinking == "hmm"
            before = len(sent)
            for chars in (150, 200, 300):  # then only what was added, one PUBLISH each
                await owner.publish(cid, "m1", snap(gid, chars, thinking="hmm, ok"))
                await eventually(lambda c=chars: has(c), what=f"{chars} characters")
            assert len(sent) == before + 3
            assert all('"o":0,' not in payload for _, payload in sent[before:])  # parts
            assert channel.frame.thinking == "hmm, ok"
            await owner.ended(cid, gid, "m1", "complete")

            async def ended() -> bool:
                return channel.frame is not None and channel.frame.ended

            await eventually(ended, what="the end on the other worker")
    finally:
        await owner.close()
        await watcher.close()


@pytest.mark.parametrize("missed", [1, 2])
async def test_a_frame_whose_start_was_missed_waits_for_a_whole_text(missed):
    from ai_chat.generation.fanout import Channel

    channel = Channel()
    fanout_redis.apply(
        channel, {"g": "g", "m": "m", "s": "streaming", "n": 1, "e": 0, "o": 0, "t": "abc"}
    )
    fanout_redis.apply(
        channel, {"g": "g", "m": "m", "s": "streaming", "n": 2, "e": 0, "o": 3 + missed, "t": "xyz"}
    )
    assert channel.frame is not None and channel.frame.text == "abc"
    fanout_redis.apply(
        channel, {"g": "g", "m": "m", "s": "streaming", "n": 2, "e": 0, "o": 3, "t": "def"}
    )
    assert channel.frame.text == "abcdef"
