"""Server CPU per turn, apart from streaming: the work a burst of turn starts puts on a worker.

`python -m benchmarks.turn_cost [--users 200] [--rounds 5] [--prior M] [--shared] [--workers N]
[--profile F]`

The app as deployed (`reflex run --env prod`, fresh SQLite DB, or `--shared`: PostgreSQL +
Redis) and the standalone simulator; N connected tabs each send a one-shot 5-token turn at
the same moment, round after round (the first round starts N new chats, later rounds go on
in them; with `--prior M` each tab opens a chat already holding M messages). Per round:
the server's CPU seconds over the round / N. That is what every turn
costs whatever its length: the send event, storing the user turn, the SDK's request, storing
the reply, the sidebar update and the pushes of the turn's start and end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from pathlib import Path

from benchmarks import servers
from benchmarks.measure import summary
from benchmarks.rig import Rig, serve
from benchmarks.run import _arun, shared_services
from benchmarks.users import Turn, close_users, open_users, seed_chats
from tests.support.servers import simulator

SETTLE_S = 0.5  # the last pushes of a round leave before its CPU is read


async def _rounds(rig: Rig, users: int, rounds: int, prior: int = 0) -> list[float]:
    chats = await seed_chats(rig, [prior] * users) if prior else [""] * users
    tabs = await open_users(rig, chats)
    per_turn_ms: list[float] = []
    try:
        for n in range(rounds):
            turns = [Turn(tokens=5, tps=1000, ttft=0) for _ in tabs]
            cpu_before, started = rig.proc.cpu_s(), time.monotonic()
            sends = (tab.run_turn(turn, 120) for tab, turn in zip(tabs, turns, strict=True))
            await asyncio.gather(*sends)
            await asyncio.sleep(SETTLE_S)
            ms = (rig.proc.cpu_s() - cpu_before) / users * 1000
            per_turn_ms.append(ms)
            took = time.monotonic() - started
            kb = sum(t.bytes for t in turns) / users / 1024  # what a tab receives for a turn
            print(
                f"round {n}: {users} turns in {took:.2f} s, server CPU {ms:.2f} ms per turn, "
                f"{kb:.1f} KB to the tab per turn"
            )
    finally:
        await close_users(tabs)
    return per_turn_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prior", type=int, default=0, help="messages already in each chat")
    parser.add_argument("--shared", action="store_true", help="on Redis + PostgreSQL")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--env", action="append", default=[], metavar="K=V", help="server env")
    parser.add_argument("--profile", type=Path, help="py-spy stacks (.svg: flame graph)")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    out = Path(__file__).resolve().parent / "results" / "turn_cost"
    with (
        simulator(out / "logs") as (sim_url, _sim),
        contextlib.ExitStack() as stack,
    ):
        services: dict[str, str] = {}
        if args.shared or args.workers > 1:
            services, _db = stack.enter_context(shared_services())
        rig = stack.enter_context(
            serve("turn_cost", out, sim_url, **services, workers=args.workers, extra_env=env)
        )
        if args.profile is not None:
            stack.enter_context(servers.py_spy(rig.proc, args.profile))
        per_turn = _arun(_rounds(rig, args.users, args.rounds, args.prior))
    stats = summary(per_turn[1:] or per_turn)  # the first also creates the chats, warms up
    print(f"server CPU per turn in existing chats: p50 {stats['p50']:.2f} ms")


if __name__ == "__main__":
    main()
