"""Several workers' metrics added up (prometheus_client's multiprocess mode, as the start
script sets it up), and a dead worker's in-flight replies no longer counted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WORKER = """
import sys
from ai_chat.ops import metrics
metrics.TURNS.labels("complete").inc()
metrics.REPLIES_IN_FLIGHT.inc()  # still "in flight" when this worker dies
metrics.FIRST_TOKEN.observe(0.4)
"""
READ = """
from ai_chat.ops import metrics
body, _ = metrics.exposition()
print(body.decode())
"""


def _run(code: str, directory: Path) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} missing from:\n{text}")


def test_workers_add_up_and_dead_ones_leave_the_gauge(tmp_path: Path):
    _run(WORKER, tmp_path)
    _run(WORKER, tmp_path)  # two workers, both gone now
    text = _run(READ, tmp_path)
    assert _value(text, 'ai_chat_turns_total{status="complete"}') == 2
    assert _value(text, "ai_chat_first_token_seconds_count") == 2
    assert _value(text, "ai_chat_replies_in_flight") == 0
