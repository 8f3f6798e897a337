"""Server CPU per push in steady streaming, configurations interleaved round by round.

`python -m benchmarks.push_cost [--streams 150] [--rounds 6] [--history 0]
[--variant NAME:K=V[,K=V...]]...`

One server per configuration — the app as deployed, plus one per `--variant` with that
server env — all on one standalone simulator. Each round measures every server in turn
(`scenarios.pushcost.cpu_per_push`: a 6 s window while every stream streams), so a slow
minute of the host lands on all of them alike; this host's figures drift by more than the
differences worth measuring. Prints each round, then each configuration's median.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
from pathlib import Path

from benchmarks.rig import Rig, serve
from benchmarks.run import _arun
from benchmarks.scenarios.pushcost import cpu_per_push
from tests.support.servers import simulator

WINDOW_S = 6.0


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """`NAME:K=V,K=V` → (NAME, env)."""
    name, sep, assignments = text.partition(":")
    if not sep or not name or name == "default":
        raise argparse.ArgumentTypeError(f"expected NAME:K=V[,K=V...], got {text!r}")
    env: dict[str, str] = {}
    for item in filter(None, assignments.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise argparse.ArgumentTypeError(f"expected K=V in {text!r}, got {item!r}")
        env[key] = value
    return name, env


def medians(per_round: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in per_round.items()}


async def _rounds(
    rigs: dict[str, Rig], rounds: int, streams: int, history: int
) -> dict[str, list[float]]:
    per_round: dict[str, list[float]] = {name: [] for name in rigs}
    for n in range(rounds):
        for name, rig in rigs.items():
            out = await cpu_per_push(rig, history, streams, WINDOW_S)
            per_round[name].append(out["cpu_ms_per_push"])
            print(
                f"round {n} {name}: {out['cpu_ms_per_push']:.3f} ms per push "
                f"({out['pushes']} pushes, {out['cpu_util']:.2f} core)",
                flush=True,
            )
    return per_round


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--history", type=int, default=0, help="prior turns per chat")
    parser.add_argument("--variant", type=parse_variant, action="append", default=[])
    args = parser.parse_args(argv)
    configs = [("default", {}), *args.variant]
    if len({name for name, _ in configs}) != len(configs):
        parser.error("variant names must differ")
    out = Path(__file__).resolve().parent / "results" / "push_cost"
    with simulator(out / "logs") as (sim_url, _sim), contextlib.ExitStack() as stack:
        rigs = {
            name: stack.enter_context(serve(f"push_cost_{name}", out, sim_url, extra_env=env))
            for name, env in configs
        }
        per_round = _arun(_rounds(rigs, args.rounds, args.streams, args.history))
    for name, median in medians(per_round).items():
        values = ", ".join(f"{v:.3f}" for v in per_round[name])
        print(f"{name}: median {median:.3f} ms per push ({values})")


if __name__ == "__main__":
    main()
