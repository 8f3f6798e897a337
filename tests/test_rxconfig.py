"""rxconfig.py picks how tab state is kept from the environment alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import json, os, rxconfig; "
    "print(json.dumps([rxconfig.config.state_manager_mode.value, "
    "os.environ.get('REFLEX_OPLOCK_ENABLED')]))"
)


def _config(**env: str) -> list:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AI_CHAT_", "REFLEX_", "ANTHROPIC_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_one_worker_keeps_tab_state_in_memory():
    assert _config() == ["memory", None]


def test_redis_shares_tab_state_with_the_opportunistic_lock_on():
    assert _config(AI_CHAT_REDIS_URL="redis://127.0.0.1:6379/3") == ["redis", "1"]


def test_the_opportunistic_lock_can_be_turned_off():
    env = {"REFLEX_REDIS_URL": "redis://127.0.0.1:6379/3", "REFLEX_OPLOCK_ENABLED": "0"}
    assert _config(**env) == ["redis", "0"]
