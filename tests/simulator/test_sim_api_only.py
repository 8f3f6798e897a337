"""`create_app(api_only=True)`, as the served app mounts it at /_sim: the SDK works, the
records (every prompt) and control routes don't exist, and no answer carries CORS headers."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx2
import pytest

from ai_chat.simulator import SimulatorServer
from ai_chat.simulator.app import API_ONLY_RECORDS
from tests.simulator.conftest import FAST_ENV

MODEL = "claude-sim-test"
EVIL = {"Origin": "http://evil.example"}


@pytest.fixture(scope="module")
def api_only() -> Iterator[SimulatorServer]:
    with SimulatorServer(env=FAST_ENV, mount_path="/_sim", api_only=True) as server:
        yield server


@pytest.mark.asyncio
async def test_the_sdk_still_gets_its_replies(api_only: SimulatorServer) -> None:
    async with anthropic.AsyncAnthropic(
        base_url=api_only.base_url, api_key="k", max_retries=0
    ) as client:
        msg = await client.messages.create(
            model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
        assert msg.content[0].text  # type: ignore[union-attr]
        async with client.messages.stream(
            model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "[[sim tokens=5]]"}]
        ) as stream:
            text = await stream.get_final_text()
        assert text
        count = await client.messages.count_tokens(
            model=MODEL, messages=[{"role": "user", "content": "hello there"}]
        )
        assert count.input_tokens > 0
    # only the requests in flight are tracked, not a history of prompts
    assert len(api_only.recorder.all()) <= API_ONLY_RECORDS


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_records"),
        ("GET", "/_records?tag=x"),
        ("DELETE", "/_records"),
        ("GET", "/health"),
        ("GET", "/nope"),
    ],
)
async def test_records_and_control_routes_are_not_served(
    api_only: SimulatorServer, method: str, path: str
) -> None:
    async with httpx2.AsyncClient(base_url=api_only.base_url, timeout=5) as http:
        resp = await http.request(method, path, headers=EVIL)
    assert resp.status_code == 404
    assert resp.json()["error"]["type"] == "not_found_error"
    assert not [h for h in resp.headers if h.lower().startswith("access-control-")]


@pytest.mark.asyncio
async def test_no_answer_carries_cors_headers(api_only: SimulatorServer) -> None:
    body = {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    async with httpx2.AsyncClient(base_url=api_only.base_url, timeout=5) as http:
        ok = await http.post("/v1/messages", json=body, headers={**EVIL, "x-api-key": "k"})
        refused = await http.post("/v1/messages", json=body, headers=EVIL)  # no key
        preflight = await http.options(
            "/v1/messages",
            headers={**EVIL, "Access-Control-Request-Method": "POST"},
        )
    assert ok.status_code == 200 and refused.status_code == 401
    assert preflight.status_code in (404, 405)
    for resp in (ok, refused, preflight):
        assert not [h for h in resp.headers if h.lower().startswith("access-control-")]


def test_the_standalone_simulator_keeps_its_records() -> None:
    """The default (standalone, `python -m ai_chat.simulator`, SimulatorServer) is unchanged."""
    with SimulatorServer(env=FAST_ENV) as sim:
        resp = httpx2.get(sim.base_url + "/_records", timeout=5)
        assert resp.status_code == 200 and resp.json() == []
        assert httpx2.get(sim.base_url + "/health", timeout=5).json() == {"status": "ok"}
