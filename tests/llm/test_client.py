"""`llm/client.py`: the clients a worker streams through."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from ai_chat.config import load_settings
from ai_chat.llm.client import ClientShards
from tests.llm.conftest import connection_of_a_reply


def shards(count: int, per_shard: int, base_url: str = "") -> ClientShards:
    env = {"ANTHROPIC_BASE_URL": base_url} if base_url else {}
    return ClientShards(load_settings(env), count, per_shard)


def test_one_reply_at_a_time_always_gets_the_first_client():
    pool = shards(4, per_shard=2)
    for _ in range(5):
        with pool.lease() as client:
            assert client is pool.clients[0]
    assert pool.active == [0, 0, 0, 0]


def test_shards_fill_in_order_then_the_least_busy_takes_the_next():
    pool = shards(3, per_shard=2)
    with contextlib.ExitStack() as held:
        leased = [held.enter_context(pool.lease()) for _ in range(6)]
        assert [pool.clients.index(c) for c in leased] == [0, 0, 1, 1, 2, 2]
        assert pool.active == [2, 2, 2]
        held.enter_context(pool.lease())  # all full: spread evenly
        assert pool.active == [3, 2, 2]
    assert pool.active == [0, 0, 0]


def test_a_lease_is_returned_when_the_reply_fails():
    pool = shards(2, per_shard=1)
    with pytest.raises(RuntimeError), pool.lease():
        raise RuntimeError("stream broke")
    assert pool.active == [0, 0]
    with pool.lease() as client:
        assert client is pool.clients[0]


def test_there_is_always_one_shard():
    assert len(shards(0, per_shard=0).clients) == 1


def test_each_shard_keeps_its_own_connections(sim):
    pool = shards(2, per_shard=1, base_url=sim.base_url)

    async def two_at_once() -> tuple[object, object]:
        with pool.lease() as first, pool.lease() as second:
            return await connection_of_a_reply(first), await connection_of_a_reply(second)

    async def main() -> list[object]:
        try:
            return [*await two_at_once(), *await two_at_once()]
        finally:
            for client in pool.clients:
                await client.close()

    first, second, third, fourth = asyncio.run(main())
    assert first is not second  # one pool would have reused the kept-alive connection
    assert third is first and fourth is second  # each shard reuses its own
