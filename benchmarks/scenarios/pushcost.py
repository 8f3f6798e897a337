"""Push cost: bytes per push / per reply, and server CPU per push, vs history length."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from benchmarks import measure
from benchmarks.rig import Rig
from benchmarks.users import ChatUser, Turn, close_users, open_users, seed_chats


async def _seeded_users(rig: Rig, histories: list[int]) -> list[ChatUser]:
    return await open_users(rig, await seed_chats(rig, histories), parallel=5)


async def reply_bytes(rig: Rig, cells: list[tuple[int, int]], tps: float) -> list[dict[str, Any]]:
    """One reply per (prior turns, reply tokens) cell, all cells streaming at once."""
    users = await _seeded_users(rig, [h for h, _ in cells])
    opened = [u.push_bytes for u in users]  # what opening the conversation cost
    turns = [Turn(tokens=n, tps=tps) for _, n in cells]
    try:
        longest = max(n for _, n in cells) / tps
        await asyncio.gather(
            *(u.run_turn(t, timeout=longest * 3 + 60) for u, t in zip(users, turns, strict=True))
        )
    finally:
        await close_users(users)
    rows = []
    for (history, tokens), turn, open_bytes in zip(cells, turns, opened, strict=True):
        sizes, total = measure.stream_bytes(turn)
        lost, dup = measure.char_errors(turn.expected_text(), turn.final_text)
        rows.append(
            {
                "app": rig.app.name,
                "history": history,
                "tokens": tokens,
                "tps": tps,
                "pushes": len(sizes),
                "push_bytes_mean": statistics.fmean(sizes) if sizes else 0.0,
                "push_bytes_max": max(sizes, default=0),
                "reply_bytes": total,
                "open_bytes": open_bytes,
                "lost": lost,
                "dup": dup,
                "regressions": turn.regressions,
            }
        )
    return rows


async def cpu_per_push(
    rig: Rig, history: int, streams: int, seconds: float, tps: float = 50
) -> dict[str, Any]:
    """Server CPU per push in steady streaming, `streams` replies in `history`-turn chats.

    The window starts after every stream has begun and ends before any finishes, so the
    per-turn work (history read, the two row writes) stays out and only pushes count.
    """
    users = await _seeded_users(rig, [history] * streams)
    turns = [Turn(tokens=int(tps * (seconds + 4)), tps=tps, ttft=0.2) for _ in users]
    try:
        await asyncio.gather(*(u.send(t) for u, t in zip(users, turns, strict=True)))
        await asyncio.sleep(1.5)
        start, cpu0 = time.time(), rig.proc.cpu_s()
        await asyncio.sleep(seconds)
        end, cpu1 = time.time(), rig.proc.cpu_s()
        pushes = sum(1 for t in turns for at, n, _ in t.text_pushes if n and start <= at < end)
        await asyncio.gather(*(asyncio.wait_for(t.done.wait(), 60) for t in turns))
    finally:
        await close_users(users)
    return {
        "app": rig.app.name,
        "history": history,
        "streams": streams,
        "pushes": pushes,
        "cpu_s": cpu1 - cpu0,
        "cpu_ms_per_push": (cpu1 - cpu0) * 1000 / pushes if pushes else float("nan"),
        "cpu_util": (cpu1 - cpu0) / (end - start),
    }
