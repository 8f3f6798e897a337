"""What the per-turn JSON log line and the Prometheus metrics cost (ai_chat/ops/turn_log.py).

`python -m benchmarks.ops_cost [--turns 5000] [--pushes 100] [--repeats 5]`

Feeds real update objects (a TurnStarted, `--pushes` LiveSnapshots, a TurnFinished) through
`TurnObserver` exactly as `GenerationService.run` does, with the log line written to a file,
once with metrics in this process's registry (one worker, or `reflex run` by hand) and once
in prometheus_client's multiprocess mode (what the start script sets up for every worker).
Each mode runs in a fresh interpreter (the mode is fixed when prometheus_client is
imported). Prints CPU per turn (the whole observer: log line + metrics) and per push
(`update` on a snapshot), the median of the repeats, with the loop's own cost subtracted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _child(turns: int, pushes: int, repeats: int, log_path: str) -> dict[str, float]:
    from ai_chat.generation.job import GenerationJob, TurnFinished, TurnStarted
    from ai_chat.generation.live_reply import LiveSnapshot
    from ai_chat.ops import turn_log as ops_turns
    from ai_chat.store.models import MessageRow

    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ops_turns.turn_log.addHandler(handler)
    ops_turns.turn_log.propagate = False
    job = GenerationJob("user-1", "c" * 32, "hi", "g" * 32, "m" * 32, "claude-sonnet-5-5", 4096)
    started = TurnStarted("c" * 32, MessageRow("c" * 32, 0, "user", content="hi"), False)
    snaps = [LiveSnapshot("g" * 32, "x" * i, "streaming", i, 0.1) for i in range(pushes)]
    row = MessageRow("c" * 32, 1, "assistant", content="x" * 400, model="claude-sonnet-5-5")
    row.request_id, row.input_tokens, row.output_tokens = "req_0123456789", 1200, 400
    finished = TurnFinished(row)
    updates = [started, *snaps, finished]

    def loop(observe: bool) -> float:
        t0 = time.process_time()
        for _ in range(turns):
            if observe:
                observer = ops_turns.TurnObserver(job)
                for update in updates:
                    observer.update(update)
                observer.end()
            else:
                for _update in updates:
                    pass
        return time.process_time() - t0

    def snaps_only() -> float:
        observer = ops_turns.TurnObserver(job)
        observer.update(started)
        t0 = time.process_time()
        for _ in range(turns):
            for snap in snaps:
                observer.update(snap)
        spent = time.process_time() - t0
        observer.update(finished)
        return spent

    per_turn, per_push = [], []
    for _ in range(repeats):
        per_turn.append((loop(True) - loop(False)) / turns)
        per_push.append(snaps_only() / (turns * pushes))
    return {
        "turn_us": statistics.median(per_turn) * 1e6,
        "push_ns": statistics.median(per_push) * 1e9,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=5000)
    parser.add_argument("--pushes", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "turns.log")
        if args.child:
            print(json.dumps(_child(args.turns, args.pushes, args.repeats, log_path)))
            return 0
        rows = []
        for mode in ("one process", "multiprocess dir"):
            env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
            if mode == "multiprocess dir":
                env["PROMETHEUS_MULTIPROC_DIR"] = tmp
            argv_child = [sys.executable, "-m", "benchmarks.ops_cost", "--child"]
            argv_child += ["--turns", str(args.turns), "--pushes", str(args.pushes)]
            argv_child += ["--repeats", str(args.repeats)]
            out = subprocess.run(argv_child, env=env, capture_output=True, text=True, check=True)
            rows.append((mode, json.loads(out.stdout.strip().splitlines()[-1])))
    print(f"{args.turns} turns x {args.pushes} pushes, median of {args.repeats}")
    for mode, result in rows:
        print(
            f"{mode:17s} {result['turn_us']:7.1f} µs per turn  {result['push_ns']:6.0f} ns per push"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
