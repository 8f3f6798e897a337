"""Garbage-collector settings for a long-running worker.

With Python's default thresholds, full (gen-2) collections under load walk every tab's
state, and each pause delays every stream's next push by as much. The per-token and per-push
objects are freed by reference counting, but collecting every 700 allocations catches
thousands of them mid-flight and promotes them, which is what keeps triggering the full
collections. So: what startup built is frozen, and young collections are rare. The effect on
delivery lag is in docs/PERFORMANCE.md. `AI_CHAT_GC_TUNING=0` leaves Python's defaults
(the app then doesn't register `tune_for_serving`).
"""

from __future__ import annotations

import gc

# Allocations (net of frees) between young collections; the defaults are (700, 10, 10).
THRESHOLDS = (50_000, 20, 100)


async def tune_for_serving() -> None:
    """A lifespan task. Freezes what startup built (modules, compiled pages: objects that
    live as long as the process) so no collection walks them again, and makes collections
    rare."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
