"""The served app builds its Claude clients at startup, not during the first reply (in a
fresh interpreter: the app module and its cached services are process-wide)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import asyncio, json
from ai_chat.ai_chat import app
from ai_chat.generation import runtime
registered = runtime.build_clients in app.get_lifespan_tasks()
before = runtime._clients.cache_info().currsize
asyncio.run(runtime.build_clients())
built = runtime._clients.cache_info().currsize
with runtime.client_lease() as client:
    first = client is runtime._clients().clients[0]
print(json.dumps([registered, before, built, first]))
"""


def test_the_app_builds_its_clients_at_startup():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    registered, before, built, first = json.loads(result.stdout.strip().splitlines()[-1])
    assert registered
    assert (before, built) == (0, 1)  # importing the app builds nothing; startup does
    assert first  # the first reply uses the clients startup built
