"""The benchmark suite's quick mode, as a test: the app served as deployed (and the naive
baseline) stream replies over the real WebSocket without losing or duplicating a single
character. Timings are measured and printed but never asserted: this machine is shared."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks import plan
from benchmarks.publish import write_run
from benchmarks.run import char_problems, run_suite

QUICK_BUDGET_S = 120


def test_quick_benchmark_loses_no_characters(tmp_path: Path) -> None:
    started = time.monotonic()
    results = run_suite(plan.quick(), tmp_path, {"app", "naive"}, wait_quiet_s=0)
    print((write_run(results, tmp_path)).read_text())

    # A measurement that crashed (e.g. a reply that never ended) checked nothing.
    assert not results["errors"], results["errors"]
    for app in ("app", "naive"):
        section = results[app]
        assert section["cells"] and section["capacity"], f"{app}: nothing was streamed"
        assert all(c["pushes"] > 0 for c in section["cells"]), f"{app}: a reply had no pushes"
    assert not char_problems(results)
    print(f"quick benchmark took {time.monotonic() - started:.0f} s (budget {QUICK_BUDGET_S} s)")
