"""Prometheus metrics (prometheus-client), served at /metrics (ops/http.py).

Several workers: the start script (ai_chat/serve.py) gives them one directory in
PROMETHEUS_MULTIPROC_DIR before they start, each worker writes its own files there, and
/metrics on any worker adds them all up (prometheus_client's multiprocess mode). A worker
that died leaves its counts (they stay part of the app's totals); its share of the
in-flight gauge is dropped when /metrics is read. Without that directory (a bare
`reflex run`), each worker reports only itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# Kinds that are this app's own refusals, not Claude's or the network's errors.
LOCAL_ERROR_KINDS = frozenset({"limit", "storage"})

REPLIES_IN_FLIGHT = Gauge(
    "ai_chat_replies_in_flight",
    "Replies between their user turn being stored and their end.",
    multiprocess_mode="livesum",
)
TURNS = Counter(
    "ai_chat_turns",
    "Turns ended, by status (complete, cancelled, failed, interrupted, refused, not_started).",
    ["status"],
)
FIRST_TOKEN = Histogram(
    "ai_chat_first_token_seconds",
    "From the turn's start (send) to Claude's first text token.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60),
)
TURN_DURATION = Histogram(
    "ai_chat_turn_duration_seconds",
    "From the turn's start to its end.",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
)
UPSTREAM_ERRORS = Counter(
    "ai_chat_upstream_errors",
    "Replies that failed because of Claude or the way to it, by kind (llm/errors.py).",
    ["kind"],
)


def _multiprocess_dir() -> Path | None:
    raw = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    return Path(raw) if raw else None


def _forget_dead_workers(directory: Path) -> None:
    """A crashed worker's live gauges would count forever: drop those of gone pids."""
    for path in directory.glob("gauge_live*.db"):
        try:
            pid = int(path.stem.rsplit("_", 1)[1])
            os.kill(pid, 0)
        except (ValueError, IndexError):
            continue
        except ProcessLookupError:
            # prometheus_client's multiprocess module is unannotated
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
        except PermissionError:
            continue  # alive, someone else's


def exposition() -> tuple[bytes, str]:
    """The text format of every metric of the app (all workers when they share a dir)."""
    directory = _multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    _forget_dead_workers(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
