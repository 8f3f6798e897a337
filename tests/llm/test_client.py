"""`llm/client.py`: the clients a worker streams through."""

from __future__ import annotations

import asyncio

from ai_chat.config import load_settings
from ai_chat.llm.client import ClientShards


def test_shards_are_handed_out_in_turn():
    shards = ClientShards(load_settings({}), 3)
    handed = [shards() for _ in range(7)]
    assert handed[:3] == handed[3:6] == list(shards.clients)
    assert handed[6] is shards.clients[0]
    assert len({id(client) for client in handed}) == 3


def test_there_is_always_one_shard():
    assert len(ClientShards(load_settings({}), 0).clients) == 1


def test_each_shard_keeps_its_own_connections(sim):
    shards = ClientShards(load_settings({"ANTHROPIC_BASE_URL": sim.base_url}), 2)

    async def connection_of_next_reply() -> object:
        client = shards()
        async with client.messages.with_streaming_response.create(
            model="claude-sonnet-5-5",
            messages=[{"role": "user", "content": "Hi [[sim tokens=5 tps=1000 ttft=0]]"}],
            max_tokens=50,
            stream=True,
        ) as response:
            await response.http_response.aread()
            return response.http_response.extensions["network_stream"]

    async def main() -> list[object]:
        try:
            return [await connection_of_next_reply() for _ in range(4)]
        finally:
            for client in shards.clients:
                await client.close()

    first, second, third, fourth = asyncio.run(main())
    assert first is not second  # one pool would have reused the kept-alive connection
    assert third is first and fourth is second  # each shard reuses its own
