"""The served app tunes the garbage collector once it has started (in a fresh interpreter:
the settings are process-wide)."""

from __future__ import annotations

import json
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
asyncio.run(tune_for_serving())
print(json.dumps([registered, before, gc.get_threshold(), gc.get_freeze_count()]))
"""


def test_the_app_freezes_its_startup_objects_and_collects_rarely():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    registered, before, after, frozen = json.loads(result.stdout.strip().splitlines()[-1])
    assert registered
    assert before[0] == 700 and after[0] >= 10_000  # young collections are rare
    assert frozen > 10_000  # the imported app is out of the collector's sight
