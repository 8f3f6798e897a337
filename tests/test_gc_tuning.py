"""The served app tunes the garbage collector once it has started (in a fresh interpreter:
the settings are process-wide)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import asyncio, gc, json
from ai_chat.ai_chat import app
from ai_chat.gc_tuning import tune_for_serving
registered = tune_for_serving in app.get_lifespan_tasks()
before = gc.get_threshold()
if registered:
    asyncio.run(tune_for_serving())
print(json.dumps([registered, before, gc.get_threshold(), gc.get_freeze_count()]))
"""


def _probe(**env: str) -> list:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AI_CHAT_")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**clean, **env},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_app_freezes_its_startup_objects_and_collects_rarely():
    registered, before, after, frozen = _probe()
    assert registered
    assert before[0] == 700 and after[0] >= 10_000  # young collections are rare
    assert frozen > 10_000  # the imported app is out of the collector's sight


def test_switched_to_stock_the_app_leaves_the_collector_as_python_sets_it():
    for env in ({"AI_CHAT_GC_TUNING": "0"}, {"AI_CHAT_STOCK": "1"}):
        registered, before, after, frozen = _probe(**env)
        assert not registered
        assert before == after == list(gc.get_threshold()) and frozen == 0
