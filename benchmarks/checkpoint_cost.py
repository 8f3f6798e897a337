"""What checkpointing the replies in flight costs a worker: CPU per round (one round a second
writes every reply of the worker at once) for N replies streaming at 50 tokens/s.

`python -m benchmarks.checkpoint_cost [--replies 10,100,300] [--rounds 30] [--no-postgres]
[--no-redis]`

The server's own Checkpointer (generation/checkpoints.py) against SQLite, a fresh
PostgreSQL database and the local Redis: each reply's row is written as a turn writes it,
then every round appends a second's worth of text (50 tokens, ~200 characters) to each
reply and runs one checkpoint. Reports this process's CPU per round (p50), per reply, and
what one round sends: one transaction (database) or one pipeline (Redis), whatever N is.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from ai_chat.config import async_url
from ai_chat.generation.checkpoints import Checkpointer, CheckpointStore, DbCheckpoints
from ai_chat.generation.checkpoints_redis import RedisCheckpoints
from ai_chat.generation.live_reply import LiveReply
from ai_chat.generation.persist import TurnStore
from ai_chat.llm.events import TextDelta
from ai_chat.store import db, migrations, turns
from ai_chat.store.models import new_id
from benchmarks.measure import summary
from benchmarks.scenarios import writes

OWNER = "local"
REDIS_URL = "redis://127.0.0.1:6379/0"
SECOND_OF_TEXT = "word " * 40  # ~50 tokens at 50 tokens/s


async def _replies(url: str, count: int) -> list[LiveReply]:
    replies = []
    store = TurnStore(url)
    for n in range(count):
        reply = LiveReply(new_id(), "", new_id(), "m")
        await db.run_write(
            turns.start_turn_sync,
            OWNER,
            None,
            f"q{n}",
            None,
            None,
            None,
            store.in_flight_row(reply),
            url=url,
        )
        replies.append(reply)
    return replies


async def cpu_ms_per_round(
    url: str, store: CheckpointStore, count: int, rounds: int
) -> dict[str, float]:
    replies = await _replies(url, count)
    checkpointer = Checkpointer(store, lambda: replies, interval_s=1.0, lease_s=5.0)
    times: list[float] = []
    for _ in range(rounds):
        for reply in replies:  # a second of streaming
            reply.apply(TextDelta(SECOND_OF_TEXT, reply.deltas, 50))
        started = time.process_time()
        await checkpointer.checkpoint(young_too=True)
        times.append((time.process_time() - started) * 1000)
    for reply in replies:
        checkpointer.ended(reply.message_id)
    await checkpointer.checkpoint()  # drops Redis' keys
    if isinstance(store, RedisCheckpoints):
        await store.close()
    await db.dispose_engines()
    return summary(times[1:])  # the first round writes everything: the rest append


def _report(name: str, count: int, result: dict[str, float]) -> None:
    per_reply = result["p50"] / count * 1000
    print(
        f"{name}: {count} replies, one write a second: CPU per round p50 "
        f"{result['p50']:.2f} ms (p90 {result['p90']:.2f}), {per_reply:.0f} µs per reply"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", default="10,100,300")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-redis", action="store_true")
    args = parser.parse_args()
    counts = [int(n) for n in args.replies.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{Path(tmp) / 'checkpoints.db'}"
        migrations.upgrade(sqlite)
        url = async_url(sqlite)
        for count in counts:
            result = asyncio.run(cpu_ms_per_round(url, DbCheckpoints(url), count, args.rounds))
            _report("sqlite", count, result)
            if not args.no_redis:
                redis = RedisCheckpoints(REDIS_URL, url)
                result = asyncio.run(cpu_ms_per_round(url, redis, count, args.rounds))
                _report("redis", count, result)
    if not args.no_postgres:
        with writes.pg_database() as pg:
            migrations.upgrade(writes.psycopg_url(pg))
            url = async_url(pg)
            for count in counts:
                result = asyncio.run(cpu_ms_per_round(url, DbCheckpoints(url), count, args.rounds))
                _report("postgresql", count, result)


if __name__ == "__main__":
    main()
