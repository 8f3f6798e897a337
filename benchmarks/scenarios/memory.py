"""Memory: RSS per connected idle session, and RSS drift under a steady streaming soak."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from reflex_base.utils.format import format_event_handler

from benchmarks import measure
from benchmarks.rig import Rig
from benchmarks.users import ChatUser, Turn, close_users, open_users

SETTLE_S = 3.0


async def _settled_rss(rig: Rig, settle_s: float) -> int:
    """RSS once allocation has calmed down (median of a few samples)."""
    await asyncio.sleep(settle_s)
    samples = []
    for _ in range(5):
        samples.append(rig.proc.rss())
        await asyncio.sleep(0.2)
    return int(statistics.median(samples))


async def idle_sessions(rig: Rig, sessions: int, settle_s: float = SETTLE_S) -> dict[str, Any]:
    """Connect `sessions` tabs that hydrate `/` and then do nothing."""
    warm = await open_users(rig, [""] * 20)  # first-use allocations
    await close_users(warm)
    before = await _settled_rss(rig, settle_s)
    users = await open_users(rig, [""] * sessions)
    during = await _settled_rss(rig, settle_s)
    await close_users(users)
    after = await _settled_rss(rig, settle_s)
    return {
        "app": rig.app.name,
        "sessions": sessions,
        "rss_before": before,
        "rss_connected": during,
        "rss_after_close": after,
        "bytes_per_session": (during - before) / sessions,
    }


async def _user_loop(
    user: ChatUser, rig: Rig, deadline: float, new_chat: str, turns: list[Turn]
) -> None:
    """Reply after reply, each in a new chat (so the history in state stays bounded)."""
    while time.monotonic() < deadline:
        turn = Turn(tokens=random.randint(100, 300), tps=50)
        turns.append(turn)
        await user.run_turn(turn, timeout=60)
        await user.tab.emit(new_chat, {})
        await asyncio.sleep(random.uniform(0.2, 1.0))


async def soak(
    rig: Rig, users_n: int, seconds: float, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """`users_n` users streaming continuously for `seconds`; RSS sampled every 5 s.

    Drift = mean RSS of the last fifth vs the fifth after warm-up (the first fifth is
    allocator warm-up and not a leak).
    """
    from ai_chat.state.chat import ChatState

    new_chat = format_event_handler(ChatState.event_handlers["new_chat"])
    users = await open_users(rig, [""] * users_n)
    turns: list[Turn] = []
    samples: list[tuple[float, int]] = []
    start = time.monotonic()
    deadline = start + seconds
    tasks = [asyncio.create_task(_user_loop(u, rig, deadline, new_chat, turns)) for u in users]
    try:
        while time.monotonic() < deadline:
            samples.append((time.monotonic() - start, rig.proc.rss()))
            await asyncio.sleep(5)
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await close_users(users)
    fifth = max(1, len(samples) // 5)
    early = statistics.fmean(r for _, r in samples[fifth : 2 * fifth])
    late = statistics.fmean(r for _, r in samples[-fifth:])
    await measure.clear_records(rig.sim_url)
    lost = dup = failed = 0
    for turn in turns:
        if turn.done.is_set():
            errors = measure.char_errors(turn.expected_text(), turn.final_text)
            lost, dup, failed = lost + errors[0], dup + errors[1], failed + (not turn.final_text)
    log(
        f"  soak: {len(turns)} turns ({failed} failed), "
        f"RSS {early / 2**20:.1f} → {late / 2**20:.1f} MiB"
    )
    return {
        "app": rig.app.name,
        "users": users_n,
        "seconds": seconds,
        "turns": len(turns),
        "rss_samples": samples,
        "drift": (late - early) / early,
        "lost": lost,
        "dup": dup,
        "failed_turns": failed,  # ended with no reply text (e.g. the user turn not stored)
    }
