"""What the live fan-out costs Redis: commands per second per reply, bytes per watcher.

A reply streams at `--tps` tokens a second (4 characters each), pushed every
`--interval-ms` as the owner's coalescer does, through the app's own `RedisFanout`; 0, 1
and 10 watchers, each on its own "worker" (its own RedisFanout and subscriber connection:
the dearest case, as watchers on one worker share a subscription). Redis commands are
counted with MONITOR on a Redis database of our own (benchmarks/redis_ops.py); bytes per
watcher are the frames' payload bytes each watching worker receives. Every watcher's text
is checked against the owner's at the end.

    .venv/bin/python -m benchmarks.fanout_cost [--seconds 10] [--tps 50] [--interval-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid

from ai_chat.generation.fanout_redis import RedisFanout
from ai_chat.generation.live_reply import LiveSnapshot
from benchmarks.redis_ops import _monitor
from tests.support.redis_db import HOST, PORT, flush, free_db

WATCHERS = (0, 1, 10)
WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ".split()


async def _one(db: int, watchers: int, seconds: float, tps: float, interval_s: float) -> dict:
    url = f"redis://{HOST}:{PORT}/{db}"
    owner = RedisFanout(url)
    workers = [RedisFanout(url) for _ in range(watchers)]
    cid, gid = uuid.uuid4().hex, uuid.uuid4().hex
    payload_bytes = 0
    publish = owner._redis.publish

    async def counted(channel, payload):
        nonlocal payload_bytes
        listeners = await publish(channel, payload)
        payload_bytes += len(payload.encode()) if listeners else 0
        return listeners

    owner._redis.publish = counted  # type: ignore[method-assign]
    joins = [worker.join(cid) for worker in workers]
    channels = [await join.__aenter__() for join in joins]
    monitor = asyncio.create_task(asyncio.to_thread(_monitor, db, seconds))
    await asyncio.sleep(0.2)  # MONITOR is listening
    text, started, tokens = "", time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < seconds - 0.5:
        while tokens < elapsed * tps:
            text += WORDS[tokens % len(WORDS)] + " "  # ~4-6 characters a token
            tokens += 1
        snapshot = LiveSnapshot(gid, text, "streaming", tokens, round(elapsed, 1))
        await owner.publish(cid, "m", snapshot)
        await asyncio.sleep(interval_s)
    commands, _ = await monitor
    same_text = all(c.frame is not None and c.frame.text == text for c in channels)
    await owner.ended(cid, gid, "m", "complete")
    await asyncio.sleep(0.2)
    synced = same_text and all(c.frame is not None and c.frame.ended for c in channels)
    for join in joins:
        await join.__aexit__(None, None, None)
    for fanout in (owner, *workers):
        await fanout.close()
    window = seconds - 0.2
    return {
        "watchers": watchers,
        "redis_commands_per_s": round(sum(commands.values()) / window, 2),
        "commands": dict(commands),
        "bytes_per_watcher_per_s": round(payload_bytes / window) if watchers else 0,
        "reply_chars": len(text),
        "every_watcher_had_the_text_and_the_end": synced,
    }


async def main(seconds: float, tps: float, interval_s: float) -> list[dict]:
    results = []
    for watchers in WATCHERS:
        db = free_db()
        try:
            results.append(await _one(db, watchers, seconds, tps, interval_s))
        finally:
            flush(db)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--tps", type=float, default=50.0)
    parser.add_argument("--interval-ms", type=float, default=50.0)
    args = parser.parse_args()
    for row in asyncio.run(main(args.seconds, args.tps, args.interval_ms / 1000)):
        print(json.dumps(row))
