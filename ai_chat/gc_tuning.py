"""Garbage-collector settings for a long-running worker.

Measured at 300 streams on one worker (`python -m benchmarks capacity --levels 300`): with
Python's default thresholds a full (gen-2) collection ran every ~2.3 s and took 80–140 ms,
walking every tab's state; each pause delays every stream's next push by as much. The
per-token and per-push objects are freed by reference counting, but collecting every 700
allocations caught thousands of them mid-flight and promoted them, which is what kept
triggering the full collections. After this: no full collection during the run, and the
delivery lag p99 at 300 streams fell from 600–800 ms to 350–480 ms.
"""

from __future__ import annotations

import gc

# Allocations (net of frees) between young collections; the defaults are (700, 10, 10).
THRESHOLDS = (50_000, 20, 100)


async def tune_for_serving() -> None:
    """A lifespan task. Freezes what startup built (modules, compiled pages: ~290k objects
    that live as long as the process) so no collection walks them again, and makes
    collections rare."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
