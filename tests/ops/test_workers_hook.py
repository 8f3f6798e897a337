"""The Granian hook (ai_chat/ops/workers.py): the server Reflex builds respawns failed
workers and waits the drain's grace + 2 s for a stopping one."""

from __future__ import annotations

from collections.abc import Iterator

import granian.server
import pytest

from ai_chat.config import load_settings
from ai_chat.ops import workers


@pytest.fixture
def restore_granian() -> Iterator[None]:
    original = granian.server.Server
    yield
    granian.server.Server = original


def test_kill_timeout_is_the_grace_plus_two_seconds():
    assert workers.kill_timeout_s(load_settings({})) == 12  # default grace: 10 s
    assert workers.kill_timeout_s(load_settings({"AI_CHAT_SHUTDOWN_GRACE_S": "2.5"})) == 5


def test_install_makes_reflexs_granian_respawn(restore_granian):
    cls = workers.install(7)
    assert granian.server.Server is cls
    # What reflex.utils.exec.run_granian_backend_prod builds (its own arguments).
    server = granian.server.Server(target="ai_chat.ai_chat:app", factory=True, workers=3)
    assert server.respawn_failed_workers is True
    assert server.workers_kill_timeout == 7
    assert server.workers == 3
    assert workers.install(9) is not cls  # installing again replaces, never stacks
    assert granian.server.Server.__mro__[1] is cls.__mro__[1]
