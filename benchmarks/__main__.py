"""`python -m benchmarks run [--quick] [--soak-seconds 600] [--publish]`, or
`python -m benchmarks publish benchmarks/results/<time>/results.json`.

Serves the app as deployed (`reflex run --env prod`), a naive baseline and a 3-worker +
Redis deployment, drives them over the WebSocket with simulated users against the
standalone Claude simulator, and writes results.json / results.md / plots under
benchmarks/results/<time>/ (with --publish also into docs/PERFORMANCE.md and docs/*.png).

Exit status: 1 if any reply lost or duplicated characters; timings never fail the run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import plan as plans
from benchmarks.capacity_ramp import run_capacity
from benchmarks.publish import publish, write_run
from benchmarks.run import char_problems, run_suite

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = ("app", "naive", "scale", "pg")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the benchmark suite")
    run.add_argument("--quick", action="store_true", help="small CI run (< 2 min)")
    run.add_argument(
        "--soak-seconds",
        type=float,
        default=120.0,
        help="length of the memory soak (600 s is the full soak the published numbers use)",
    )
    run.add_argument("--only", default=",".join(PARTS), help=f"subset of {','.join(PARTS)}")
    run.add_argument("--out", type=Path, help="results directory (default: benchmarks/results/…)")
    run.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help="first wait up to S seconds for the machine's load average to drop below 1",
    )
    run.add_argument("--label", default="", help="what was measured, e.g. 'ai_chat at ce194da'")
    run.add_argument("--publish", action="store_true", help="update docs/PERFORMANCE.md + PNGs")
    cap = sub.add_parser("capacity", help="only the capacity ramp of one configuration")
    cap.add_argument("--levels", default="50,100,200,300,400", help="streams per step")
    cap.add_argument("--workers", type=int, default=1, help=">1: Redis + PostgreSQL, as deployed")
    cap.add_argument("--shared", action="store_true", help="Redis + PostgreSQL with 1 worker too")
    cap.add_argument(
        "--servers", type=int, default=1, help=">1: independent 1-worker apps sharing the users"
    )
    cap.add_argument(
        "--ramp-seconds",
        type=float,
        help="a step's users send within this many seconds (default: the suite's 2)",
    )
    cap.add_argument(
        "--chunk",
        type=int,
        default=1,
        help="tokens per text delta (default 1, the worst case; Claude often sends several)",
    )
    cap.add_argument("--env", action="append", default=[], metavar="K=V", help="server env")
    cap.add_argument("--profile", type=Path, help="py-spy flame graph (SVG) of one worker")
    cap.add_argument("--native", action="store_true", help="--profile with native frames")
    again = sub.add_parser("publish", help="publish a saved run's results.json into docs/")
    again.add_argument("results", type=Path)
    args = parser.parse_args(argv)
    if args.command == "publish":
        print(f"published: {publish(json.loads(args.results.read_text()))}")
        return 0

    if args.command == "capacity":
        levels = [int(n) for n in args.levels.split(",")]
        env = dict(item.split("=", 1) for item in args.env)
        steps = run_capacity(
            levels,
            args.workers,
            env,
            RESULTS / "capacity",
            args.profile,
            args.native,
            shared=args.shared,
            servers_count=args.servers,
            ramp_s=args.ramp_seconds,
            chunk=args.chunk,
        )
        return 1 if any(s["lost"] or s["dup"] for s in steps) else 0

    plan = plans.quick() if args.quick else plans.full(args.soak_seconds)
    only = {p.strip() for p in args.only.split(",") if p.strip()}
    # Absolute: the servers run in other directories (the naive app in its own) and open
    # the database files under it.
    out = (args.out or RESULTS / time.strftime("%Y%m%d-%H%M%S")).resolve()
    results = run_suite(plan, out, only, args.wait_quiet)
    results["machine"]["label"] = args.label
    report = write_run(results, out)
    print(report.read_text())
    if args.publish:
        print(f"published: {publish(results)}")
    problems = char_problems(results)
    for problem in problems:
        print(f"LOST/DUPLICATED CHARACTERS: {problem}", file=sys.stderr)
    if results.get("errors"):
        print(f"{len(results['errors'])} measurement(s) failed; see {report}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
