"""Records/health endpoints, mounting under a prefix, and the environment defaults."""

from __future__ import annotations

import anthropic
import httpx2
import pytest

from ai_chat.simulator import Recorder, SimulatorServer, reply_text, split_tokens

MODEL = "claude-sim-test"


@pytest.fixture(scope="module")
def mounted() -> SimulatorServer:
    # Mounted under /_sim inside Starlette, as the main app does; env sets slow-ish defaults
    # that the header and the prompt directive must override.
    env = {
        "AI_CHAT_SIM_TOKENS": "7",
        "AI_CHAT_SIM_TTFT": "0",
        "AI_CHAT_SIM_TPS": "1000",
        "AI_CHAT_SIM_CHUNK": "2",
        "AI_CHAT_SIM_PING": "0",
    }
    with SimulatorServer(env=env, mount_path="/_sim", recorder=Recorder()) as server:
        yield server  # type: ignore[misc]


@pytest.mark.asyncio
async def test_sdk_works_under_a_mount_prefix(mounted: SimulatorServer) -> None:
    assert mounted.base_url.endswith("/_sim")
    async with anthropic.AsyncAnthropic(
        base_url=mounted.base_url, api_key="k", max_retries=0
    ) as client:
        msg = await client.messages.create(
            model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "env"}]
        )
        assert msg.content[0].text == reply_text("env", 7)  # type: ignore[union-attr]

        msg = await client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": "hdr"}],
            extra_headers={"x-sim-options": "tokens=9; tag=hdr"},
        )
        assert len(split_tokens(msg.content[0].text)) == 9  # type: ignore[union-attr]

        msg = await client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": "both [[sim tokens=11]]"}],
            extra_headers={"x-sim-options": "tokens=9 tag=both"},
        )
        assert msg.content[0].text == reply_text("both", 11)  # type: ignore[union-attr]

    options = {r.tag: r.options for r in mounted.recorder.all()}
    assert options["hdr"]["chunk"] == 2 and options["hdr"]["ping"] == 0  # env still applies
    assert options["both"]["tokens"] == 11


@pytest.mark.asyncio
async def test_records_endpoint(mounted: SimulatorServer) -> None:
    async with anthropic.AsyncAnthropic(
        base_url=mounted.base_url, api_key="k", max_retries=0
    ) as client:
        await client.messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "[[sim tag=rec]]"}]
        )
    async with httpx2.AsyncClient(base_url=mounted.base_url, timeout=5) as http:
        resp = await http.get("/_records", params={"tag": "rec"})
        assert resp.status_code == 200 and resp.headers["request-id"].startswith("req_sim_")
        (record,) = resp.json()
        assert record["tag"] == "rec" and record["outcome"] == "complete"
        assert record["tokens_sent"] == 5 and record["finished"] is True
        assert record["messages"] == [{"role": "user", "content": "[[sim tag=rec]]"}]
        assert isinstance(record["arrived_at"], float)

        assert len((await http.get("/_records")).json()) >= 1
        assert (await http.delete("/_records")).json()["cleared"] >= 1
        assert (await http.get("/_records")).json() == []
        assert mounted.recorder.all() == []

        assert (await http.get("/health")).json() == {"status": "ok"}
        resp = await http.get("/nope")
        assert resp.status_code == 404
        assert resp.json()["error"]["type"] == "not_found_error"
        assert resp.headers["request-id"].startswith("req_sim_")
