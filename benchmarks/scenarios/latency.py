"""Added first-token latency and stop latency, one stream at a time (no contention)."""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks import measure
from benchmarks.rig import Rig
from benchmarks.users import ChatUser, Turn, TurnRefused, open_users, seed_chats

TURN_TIMEOUT_S = 60.0


async def _open(rig: Rig) -> ChatUser:
    (user,) = await open_users(rig, await seed_chats(rig, [0]))
    return user


async def first_token(rig: Rig, sim_url: str, runs: int) -> dict[str, Any]:
    """Simulator wrote the first delta → the push carrying it reached the client."""
    user = await _open(rig)
    samples: list[float] = []
    lost = dup = 0
    try:
        for i in range(runs + 1):  # the first run warms the SDK's connection pool
            turn = await user.run_turn(Turn(tokens=20, tps=200, ttft=0.2), TURN_TIMEOUT_S)
            record = (await measure.records(sim_url, [turn.tag]))[turn.tag]
            ms = measure.first_token_ms(turn, record)
            errors = measure.char_errors(turn.expected_text(), turn.final_text)
            lost, dup = lost + errors[0], dup + errors[1]
            if i and ms is not None:
                samples.append(ms)
    finally:
        await user.close()
    return {"ms": measure.summary(samples), "samples": samples, "lost": lost, "dup": dup}


async def _stop_once(user: ChatUser, sim_url: str, silent: bool) -> float:
    extra = "ping=0" if silent else ""
    turn = Turn(tokens=3000, tps=100, ttft=20 if silent else 0, extra=extra)
    await user.send(turn)
    try:
        await measure.wait_record(sim_url, turn.tag, "arrived_at")
    except TimeoutError:
        if turn.refused:  # never reached Claude: a limit said no
            raise TurnRefused(f"{user.account.username}: {turn.refused}") from None
        raise
    if silent:
        await asyncio.sleep(0.2)  # well inside the 20 s of silence
    else:
        await asyncio.wait_for(turn.streaming.wait(), TURN_TIMEOUT_S)
        await asyncio.sleep(0.1)  # mid-stream, not at the first token
    await user.stop()
    record = await measure.wait_record(sim_url, turn.tag, "disconnected_at")
    await asyncio.wait_for(turn.done.wait(), TURN_TIMEOUT_S)
    assert turn.stop_sent_at is not None
    return (record["disconnected_at"] - turn.stop_sent_at) * 1000


async def stop(rig: Rig, sim_url: str, runs: int, silent: bool) -> dict[str, Any]:
    """The Stop event left the client → the simulator saw its HTTP connection close."""
    user = await _open(rig)
    samples: list[float] = []
    try:
        for _ in range(runs):
            samples.append(await _stop_once(user, sim_url, silent))
    finally:
        await user.close()
    return {"ms": measure.summary(samples), "samples": samples}
