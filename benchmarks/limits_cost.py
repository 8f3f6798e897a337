"""What the limits add to a turn: `Quotas.admit` at its start (reply slots, message count,
day's tokens) and `record_tokens` + `release_reply` at its end, on memory and on Redis.

    .venv/bin/python -m benchmarks.limits_cost [--turns 5000] [--users 1000] [--redis URL]

Wall time is what the turn waits (with Redis mostly round trips, during which the worker
serves others); CPU is what the worker spends, background work included (the memory
storage's expiry task)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

from ai_chat.config import load_settings
from ai_chat.limits import Quotas, UserLimits


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def measure(redis_url: str, turns: int, users: int) -> dict[str, float]:
    prefix = f"ai_chat:bench:{uuid.uuid4().hex[:8]}"
    quotas = Quotas(load_settings({}), redis_url=redis_url, key_prefix=prefix)
    limits = UserLimits(1_000_000, 3, 10**12)  # never refused: the cost of the common path
    people = [uuid.uuid4().hex for _ in range(users)]
    start_us, end_us = [], []
    try:
        for i in range(200):  # warm up (connections, scripts loaded)
            await quotas.admit(people[i % users], f"w{i}", limits, f"c{i}")
            await quotas.release_reply(f"w{i}")
        cpu0 = time.process_time()
        for i in range(turns):
            user, generation = people[i % users], uuid.uuid4().hex
            t0 = time.perf_counter()
            refusal = await quotas.admit(user, generation, limits, f"conv-{i % (users * 3)}")
            t1 = time.perf_counter()
            assert refusal is None, refusal
            await quotas.record_tokens(user, limits, 1234)
            await quotas.release_reply(generation)
            t2 = time.perf_counter()
            start_us.append((t1 - t0) * 1e6)
            end_us.append((t2 - t1) * 1e6)
        await asyncio.sleep(0.2)  # let background expiry run, and count it
        cpu_us = (time.process_time() - cpu0) * 1e6 / turns
    finally:
        await quotas.close()
        if redis_url:
            import redis.asyncio as aioredis

            client = aioredis.Redis.from_url(redis_url)
            keys = [k async for k in client.scan_iter(match=prefix + "*")]
            for i in range(0, len(keys), 1000):
                await client.delete(*keys[i : i + 1000])
            await client.aclose()
    return {
        "start_median_us": statistics.median(start_us),
        "start_p99_us": _pct(start_us, 0.99),
        "end_median_us": statistics.median(end_us),
        "end_p99_us": _pct(end_us, 0.99),
        "cpu_per_turn_us": cpu_us,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=5000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    for name, url in (("memory", ""), ("redis", args.redis)):
        result = asyncio.run(measure(url, args.turns, args.users))
        print(
            f"{name:6} turn start (admit): median {result['start_median_us']:.0f} µs, "
            f"p99 {result['start_p99_us']:.0f} µs | turn end (record + release): median "
            f"{result['end_median_us']:.0f} µs, p99 {result['end_p99_us']:.0f} µs | "
            f"CPU per turn {result['cpu_per_turn_us']:.0f} µs"
        )


if __name__ == "__main__":
    main()
