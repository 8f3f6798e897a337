"""What sign-in checks and per-user limits add to a turn's start, measured alone.

`python -m benchmarks.auth_cost [--turns 3000] [--users 200] [--no-redis]`

The app's own code, in one process, on a fresh migrated SQLite DB: real accounts and
sessions (`ai_chat.auth.accounts`), and the worker's `Quotas` with the default limits
(30 messages a minute, 3 replies at once, 2,000,000 tokens a day), in memory (one worker)
and in Redis (several workers; an empty database among 8-15, flushed afterwards).
`--turns` turn starts are spread over `--users` users (so no limit is reached, as in use).
What a turn's start runs that it didn't before accounts (`LiveState.send`,
`LiveState._job`, `GenerationService._run`):

- the user of the event's socket: `identity.resolve(cookie)`, from the per-process cache
  (a miss, at most once per `CACHE_S` per session, is one indexed read: shown apart);
- the user's limits: `limits_for(identity)`;
- `Quotas.admit`: the reply's slots (user + conversation), the minute's message count and
  the day's tokens.

And at the turn's end (not its start): `record_tokens` + `release_reply`. Per token: nothing
(no limit or identity call runs in the stream loop). Wall time per call (the turn waits for
it; with Redis that includes the round trips) and this process's CPU per call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable

from ai_chat.store.models import new_id


def _stats(name: str, wall_ns: list[int], cpu_s: float) -> str:
    us = sorted(n / 1000 for n in wall_ns)
    p99 = us[min(len(us) - 1, round(0.99 * (len(us) - 1)))]
    return (
        f"{name:<52} wall p50 {statistics.median(us):8.1f} µs  p99 {p99:8.1f} µs  "
        f"mean {statistics.fmean(us):8.1f} µs   CPU {cpu_s / len(us) * 1e6:8.1f} µs"
    )


async def _timed(n: int, call: Callable[[int], Awaitable[object]]) -> tuple[list[int], float]:
    samples: list[int] = []
    cpu0 = time.process_time()
    for i in range(n):
        start = time.perf_counter_ns()
        await call(i)
        samples.append(time.perf_counter_ns() - start)
    return samples, time.process_time() - cpu0


async def _run(turns: int, users: int, redis_db: int | None) -> None:
    from ai_chat.auth import accounts, identity, passwords
    from ai_chat.config import get_settings
    from ai_chat.limits import Quotas, limits_for
    from ai_chat.store import users as user_store
    from ai_chat.store.db import dispose_engines, run_write

    # Real accounts and sessions, as `accounts.sign_in` makes them (one argon2 hash for
    # all: hashing is sign-up's cost, not a turn's).
    password_hash = await passwords.hash_password("benchmark-password")

    def create(session) -> list[str]:
        tokens = []
        for i in range(users):
            user = user_store.create_user(session, f"bench{i:04d}", password_hash)
            tokens.append(accounts.new_token())
            user_store.add_session(session, user.id, tokens[-1], identity.session_lifetime())
        return tokens

    # as a browser sends it: the session cookie among others
    cookies = [
        f"theme=dark; {identity.SESSION_COOKIE}={token}; _ga=GA1.1.1"
        for token in await run_write(create)
    ]
    who = [await identity.resolve(c) for c in cookies]
    assert all(w is not None for w in who)

    print(f"{turns} turn starts over {users} users, defaults: {limits_for(who[0])}")

    async def miss(i: int) -> object:
        identity.clear_cache()
        return await identity.resolve(cookies[i % users])

    async def hit(i: int) -> object:
        return await identity.resolve(cookies[i % users])

    async def limits(i: int) -> object:
        return limits_for(who[i % users])

    print(_stats("identity.resolve, cached (every event)", *await _timed(turns, hit)))
    print(_stats("identity.resolve, cache miss (≤ 1 per 3 s)", *await _timed(turns, miss)))
    print(_stats("limits_for", *await _timed(turns, limits)))

    backends: list[tuple[str, str]] = [("memory (1 worker)", "")]
    if redis_db is not None:
        backends.append(("Redis (several workers)", f"redis://127.0.0.1:6379/{redis_db}"))
    settings = get_settings()
    for label, url in backends:
        quotas = Quotas(settings, redis_url=url)
        gens = [new_id() for _ in range(turns)]
        convs = [new_id() for _ in range(turns)]
        try:
            # warm-up: connections, Lua scripts loaded
            await quotas.admit(who[0].user_id, "warm", limits_for(who[0]), "warm")  # type: ignore[union-attr]
            await quotas.release_reply("warm")

            admits: list[int] = []
            ends: list[int] = []
            cpu = [0.0, 0.0]
            for i in range(turns):  # each turn: its start, then its end (slots freed)
                w = who[i % users]
                assert w is not None
                cpu0, start = time.process_time(), time.perf_counter_ns()
                refusal = await quotas.admit(w.user_id, gens[i], limits_for(w), convs[i])
                admits.append(time.perf_counter_ns() - start)
                cpu1 = time.process_time()
                assert refusal is None, refusal
                await quotas.record_tokens(w.user_id, limits_for(w), 600)
                await quotas.release_reply(gens[i])
                ends.append(time.perf_counter_ns() - start - admits[-1])
                cpu[0], cpu[1] = cpu[0] + cpu1 - cpu0, cpu[1] + time.process_time() - cpu1
            print(_stats(f"Quotas.admit, {label}", admits, cpu[0]))
            print(_stats(f"  turn end: record + release, {label}", ends, cpu[1]))
        finally:
            await quotas.close()
    await dispose_engines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=3000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--no-redis", action="store_true")
    args = parser.parse_args()
    if args.turns > args.users * 30:
        parser.error("more turns than the users may send in a minute (30 each)")
    from ai_chat.config import get_settings
    from ai_chat.store import migrations
    from tests.support.redis_db import flush, free_db

    redis_db = None
    if not args.no_redis:
        try:
            redis_db = free_db()
        except Exception as exc:  # noqa: BLE001 - measured without Redis then
            print(f"(no Redis: {exc})")
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/auth_cost.db"
        migrations.upgrade(db)
        for key in [k for k in os.environ if k.startswith("AI_CHAT_")]:
            del os.environ[key]  # the defaults, whatever this shell sets
        os.environ["AI_CHAT_DB_URL"] = db
        get_settings.cache_clear()
        try:
            asyncio.run(_run(args.turns, args.users, redis_db))
        finally:
            if redis_db is not None:
                flush(redis_db)


if __name__ == "__main__":
    main()
