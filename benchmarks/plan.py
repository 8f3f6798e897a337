"""How big each measurement is, for the full run and for the quick (CI) run."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Plan:
    quick: bool
    first_token_runs: int
    stop_runs: int
    cells: tuple[tuple[int, int], ...]  # (prior turns, reply tokens) for push cost
    naive_cells: tuple[tuple[int, int], ...]
    cell_tps: float
    cpu_histories: tuple[int, ...]
    naive_cpu_histories: tuple[int, ...]
    cpu_streams: int
    cpu_seconds: float
    idle_sessions: int
    settle_s: float  # quiet time before each RSS reading
    levels: tuple[int, ...]
    naive_levels: tuple[int, ...]
    scale_levels: tuple[int, ...]
    stream_seconds: float
    ramp_s: float
    chunk: int  # tokens per text delta in the capacity replies (1: the worst case)
    write_turns: int
    soak_users: int
    soak_seconds: float
    first_token_load: int  # streams for "first-token p99 at N streams"


HISTORIES = (0, 50, 500)
LENGTHS = (100, 1000, 4000)


def full(soak_seconds: float = 120.0) -> Plan:
    cells = tuple((h, n) for h in HISTORIES for n in LENGTHS)
    # The naive app resends the whole history per token: 500 turns x 4,000 tokens would be
    # ~4 GB for one reply, so its long replies are measured in the 0/50-turn chats only.
    naive_cells = tuple((h, n) for h, n in cells if h < 500 or n == 100)
    return Plan(
        quick=False,
        first_token_runs=100,
        stop_runs=40,
        cells=cells,
        naive_cells=naive_cells,
        cell_tps=50,
        cpu_histories=(0, 500),
        naive_cpu_histories=(0, 50),
        cpu_streams=10,
        cpu_seconds=6,
        idle_sessions=300,
        settle_s=3.0,
        levels=(25, 50, 100, 150, 200, 250, 300, 400, 500, 600),
        naive_levels=(25, 50, 100, 200, 300, 400),
        scale_levels=(25, 50, 100, 150, 200, 250, 300, 400, 500, 600),
        stream_seconds=12,
        ramp_s=2,
        chunk=1,
        write_turns=10,
        soak_users=50,
        soak_seconds=soak_seconds,
        first_token_load=200,
    )


def quick() -> Plan:
    return Plan(
        quick=True,
        first_token_runs=5,
        stop_runs=3,
        cells=((0, 100), (50, 100), (0, 400)),
        naive_cells=((50, 100),),
        cell_tps=200,
        cpu_histories=(),
        naive_cpu_histories=(),
        cpu_streams=0,
        cpu_seconds=0,
        idle_sessions=20,
        settle_s=0.5,
        levels=(10,),
        naive_levels=(5,),
        scale_levels=(),
        stream_seconds=3,
        ramp_s=0.5,
        chunk=1,
        write_turns=3,
        soak_users=0,
        soak_seconds=0,
        first_token_load=0,
    )
