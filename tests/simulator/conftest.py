"""Fixtures: one simulator per session on a free port, and real-SDK clients pointed at it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import anthropic
import pytest

from ai_chat.simulator import SimulatorServer

# Fast defaults so tests that don't care about timing don't wait; tests that do say so with
# a [[sim ...]] directive. Pings stay at their 1 s default.
FAST_ENV = {"AI_CHAT_SIM_TPS": "5000", "AI_CHAT_SIM_TTFT": "0", "AI_CHAT_SIM_TOKENS": "60"}


@pytest.fixture(scope="session")
def sim() -> Iterator[SimulatorServer]:
    """Overrides tests/conftest.py's default-speed `sim` for this directory only."""
    with SimulatorServer(env=FAST_ENV) as server:
        yield server


@pytest.fixture
async def client(sim: SimulatorServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    # max_retries=0: every failure must reach the test exactly as the server sent it.
    async with anthropic.AsyncAnthropic(
        base_url=sim.base_url, api_key="sk-test", max_retries=0
    ) as c:
        yield c


@pytest.fixture
def tag() -> str:
    """A unique tag, so a test can find its own request among the session's records."""
    return f"t{uuid.uuid4().hex[:12]}"
