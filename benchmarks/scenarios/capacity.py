"""Capacity: concurrent 50 tok/s streams, rising, until delivery lag p99 passes the bound."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import psutil

from benchmarks import measure
from benchmarks.rig import Rig
from benchmarks.users import ChatUser, Turn, close_users, open_users, seed_chats

LAG_BOUND_MS = 250.0
# The simulator's records and the users' receive times are wall-clock stamps of two
# processes; a step of the system clock (seen: +6.65 s in one step, every stream "late" by
# it) would read as lag. A step whose wall clock moved this far from the monotonic one is
# measured again.
CLOCK_STEP_MS = 50.0
SETTLE_S = 2.0  # the server's rest between steps
T = TypeVar("T")
# Called once every stream is running; returns extra numbers for the step (e.g. Redis ops).
Probe = Callable[[int], Awaitable[dict[str, Any]]]


class LoopLag:
    """How late this (load generator) process's event loop wakes: if it is busy, receive
    times are late and measured lag includes the generator's own delay."""

    def __init__(self, period_s: float = 0.01) -> None:
        self.period, self.samples = period_s, []
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.period)
            self.samples.append((loop.time() - start - self.period) * 1000)

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _open_spread(rigs: Sequence[Rig], streams: int) -> list[ChatUser]:
    """`streams` users on empty seeded chats, user i on server i mod len(rigs): the ramp's
    send order then reaches every server alike."""
    n = len(rigs)
    groups = []
    for k, rig in enumerate(rigs):
        chats = await seed_chats(rig, [0] * len(range(k, streams, n)))
        groups.append(await open_users(rig, chats))
    return interleave(groups)


def interleave(groups: Sequence[Sequence[T]]) -> list[T]:
    """One from each group in turn: [[a1, a2], [b1]] -> [a1, b1, a2]."""
    longest = max((len(g) for g in groups), default=0)
    return [g[i] for i in range(longest) for g in groups if i < len(g)]


async def step(
    rig: Rig | Sequence[Rig],
    streams: int,
    *,
    tps: float,
    seconds: float,
    ramp_s: float,
    sim_cpu: Callable[[], float],
    probe: Probe | None = None,
    chunk: int = 1,
) -> dict[str, Any]:
    """`streams` users each get one reply of `seconds` at `tps` (`chunk` tokens per delta),
    sends spread over `ramp_s`.
    Several rigs (independent servers on one simulator) share the users between them."""
    rigs = [rig] if isinstance(rig, Rig) else list(rig)
    await measure.clear_records(rigs[0].sim_url)  # keep the records GET below small
    # Empty chats seeded up front: both apps then take the same path (open /c/<id>, send).
    users = await _open_spread(rigs, streams)
    turns = [Turn(tokens=int(tps * seconds), tps=tps, chunk=chunk) for _ in users]
    me = psutil.Process(os.getpid())

    def server_cpu() -> float:
        return sum(r.proc.cpu_s() for r in rigs)

    cpu0 = (server_cpu(), sim_cpu(), sum(me.cpu_times()[:2]), time.monotonic(), machine_busy_s())
    clock0 = wall_minus_monotonic()
    extra: dict[str, Any] = {}
    try:
        with LoopLag() as loop_lag:

            async def start(i: int) -> None:
                await asyncio.sleep(ramp_s * i / streams)
                await users[i].send(turns[i])

            await asyncio.gather(*(start(i) for i in range(streams)))
            if probe is not None:
                extra = await probe(streams)
            # Overloaded, replies finish late; past this they count as unfinished.
            waits = [asyncio.ensure_future(t.done.wait()) for t in turns]
            _, pending = await asyncio.wait(waits, timeout=seconds * 6 + 60)
            for waiter in pending:
                waiter.cancel()
    finally:
        await close_users(users)
    cpu1 = (server_cpu(), sim_cpu(), sum(me.cpu_times()[:2]), time.monotonic(), machine_busy_s())
    clock_step_ms = (wall_minus_monotonic() - clock0) * 1000
    wall = cpu1[3] - cpu0[3]  # monotonic: the cores per step are right even if the clock jumps
    ours = [(b - a) / wall for a, b in zip(cpu0[:3], cpu1[:3], strict=True)]
    found = await measure.records(rigs[0].sim_url)
    await measure.clear_records(rigs[0].sim_url)
    lags: list[tuple[float, float]] = []
    spans: list[tuple[float, float]] = []  # each stream's first and last token's send time
    firsts: list[float] = []
    late: list[float] = []
    ends: list[float] = []
    from_send: list[float] = []  # what the user waits: Send → first text on screen
    lost = dup = regressions = missing = failed = 0
    unfinished = sum(1 for t in turns if not t.done.is_set())
    refused = [t.refused for t in turns if t.refused]  # by a limit: never expected
    for turn in turns:
        if not turn.done.is_set():
            continue  # not lost: still arriving (reported as unfinished, fails the step)
        # Checked with or without a record: a turn the server never sent to Claude has none.
        errors = measure.char_errors(turn.expected_text(), turn.final_text)
        lost, dup, regressions = lost + errors[0], dup + errors[1], regressions + turn.regressions
        failed += not turn.final_text
        record = found.get(turn.tag)
        if record is None:
            missing += 1
            continue
        lags += measure.token_lags(turn, record)
        if (first_sent := record.get("first_token_at")) is not None:
            spans.append((first_sent, first_sent + turn.sent_after_first_s(turn.tokens - 1)))
        if (first := measure.first_token_ms(turn, record)) is not None:
            firsts.append(first)
        if (sim_late := measure.simulator_late_ms(turn, record)) is not None:
            late.append(sim_late)
        if (end := measure.turn_end_ms(turn, record)) is not None:
            ends.append(end)
        if (first_at := turn.first_text_at()) is not None and turn.sent_at:
            from_send.append((first_at - turn.sent_at) * 1000)
    pushes = sum(len(t.text_pushes) for t in turns)
    return {
        "app": rigs[0].app.name,
        "workers": sum(r.workers for r in rigs),
        "servers": len(rigs),
        "streams": streams,
        "chunk": chunk,
        "lag_ms": measure.summary([lag for _, lag in lags]),
        # The same, only tokens sent while every stream was streaming: no turn starting or
        # ending beside them. The bound applies to lag_ms (ramp included), the stricter.
        "lag_all_streaming_ms": measure.summary(
            measure.lags_within(lags, measure.all_streaming(spans))
        ),
        "first_token_ms": measure.summary(firsts),
        "sim_late_ms": measure.summary(late),
        "turn_end_ms": measure.summary(ends),
        "send_to_first_ms": measure.summary(from_send),
        "gen_loop_lag_ms": measure.summary(loop_lag.samples),
        "lost": lost,
        "dup": dup,
        "regressions": regressions,
        "missing_records": missing,  # never reached the simulator
        "clock_step_ms": clock_step_ms,  # the wall clock's jump during the step, if any
        "failed_turns": failed,  # ended with no reply text
        "refused": len(refused),  # of those, refused by a per-user limit (an error)
        "refusal": refused[0] if refused else "",
        "unfinished": unfinished,
        # while the replies stream (each lasts tokens/tps seconds), all streams together
        "pushes_per_s": pushes / (turns[0].tokens / turns[0].tps) if turns else 0.0,
        "wall_s": wall,
        # cores busy on average; "other" is everything else on the machine (neighbours)
        "cpu": {
            "server": ours[0],
            "simulator": ours[1],
            "generator": ours[2],
            "other": max(0.0, (cpu1[4] - cpu0[4]) / wall - sum(ours)),
        },
        **extra,
    }


async def ramp(
    rig: Rig | Sequence[Rig],
    levels: list[int],
    *,
    tps: float = 50,
    seconds: float = 12,
    ramp_s: float = 2,
    sim_cpu: Callable[[], float],
    probe: Probe | None = None,
    log: Callable[[str], None] = print,
    chunk: int = 1,
) -> list[dict[str, Any]]:
    """Run the levels in order, until two in a row break the bound or lag p99 passes 4× it:
    one noisy step (this machine is shared) must not end the curve, an overload should."""
    steps: list[dict[str, Any]] = []
    failed_in_a_row = 0
    name = rig.name if isinstance(rig, Rig) else f"{len(rig)} servers"
    for streams in levels:
        for _attempt in range(3):
            result = await step(
                rig,
                streams,
                tps=tps,
                seconds=seconds,
                ramp_s=ramp_s,
                sim_cpu=sim_cpu,
                probe=probe,
                chunk=chunk,
            )
            if abs(result.get("clock_step_ms", 0.0)) < CLOCK_STEP_MS:
                break
            log(
                f"  {name}: {streams:>4} streams: the wall clock jumped "
                f"{result['clock_step_ms']:+.0f} ms during the step; measured again"
            )
            await asyncio.sleep(SETTLE_S)
        steps.append(result)
        lag = result["lag_ms"]
        log(
            f"  {name}: {streams:>4} streams  lag p50 {lag['p50']:.0f} ms  p99 "
            f"{lag['p99']:.0f} ms (all streaming: "
            f"{result['lag_all_streaming_ms']['p99']:.0f})  "
            f"first token p99 {result['first_token_ms']['p99']:.0f} ms  "
            f"sim late p99 {result['sim_late_ms']['p99']:.0f} ms  "
            f"send→first p99 {result['send_to_first_ms']['p99']:.0f} ms  "
            f"turn end p50/p99 {result['turn_end_ms']['p50']:.0f}/"
            f"{result['turn_end_ms']['p99']:.0f} ms  "
            f"pushes/s {result['pushes_per_s']:.0f}  lost {result['lost']} dup {result['dup']} "
            f"unfinished {result['unfinished']} refused {result.get('refused', 0)}  "
            f"cores: server {result['cpu']['server']:.2f} "
            f"sim {result['cpu']['simulator']:.2f} gen {result['cpu']['generator']:.2f} "
            f"other {result['cpu']['other']:.2f}"
        )
        failed_in_a_row = 0 if within_bound(result) else failed_in_a_row + 1
        if failed_in_a_row >= 2 or lag["p99"] > 4 * LAG_BOUND_MS or result["lost"] or result["dup"]:
            break
        await asyncio.sleep(SETTLE_S)
    return steps


def wall_minus_monotonic() -> float:
    """Moves only when the system's wall clock is stepped (both clocks tick alike)."""
    return time.time() - time.monotonic()


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores, all processes)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def capacity(steps: list[dict[str, Any]]) -> int:
    """Most streams within the lag bound with no lost/duplicated/unfinished replies, with
    every lower level also within it (or failing alone, between two passing levels)."""
    best = 0
    for i, step in enumerate(steps):
        if within_bound(step):
            best = step["streams"]
        elif i + 1 >= len(steps) or not within_bound(steps[i + 1]):
            break
    return best


def within_bound(step: dict[str, Any]) -> bool:
    clean = not (step["lost"] or step["dup"] or step.get("unfinished") or step.get("refused"))
    return clean and step["lag_ms"]["p99"] <= LAG_BOUND_MS
