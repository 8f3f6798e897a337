"""A simulated reply shows no price: with no API key the replies come from the built-in
simulator, and neither a reply's usage line nor the header's conversation cost shows a
dollar amount (the token counts still show). A priced endpoint keeps its prices."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ai_chat.config import SIMULATOR_MOUNT, get_settings
from ai_chat.generation import runtime
from ai_chat.simulator import SimulatorServer
from ai_chat.state.views import format_cost, to_view
from ai_chat.store.models import MessageRow
from tests.conftest import eventually
from tests.state.test_send_stream import wait_idle


@pytest.fixture
def builtin(app_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorServer]:
    """The settings of `make run` without a key: `use_simulator`, whose base URL is
    127.0.0.1:<AI_CHAT_PORT>/_sim — served here by the simulator as the app mounts it."""
    env = {"AI_CHAT_SIM_TTFT": "0", "AI_CHAT_SIM_TPS": "2000"}
    with SimulatorServer(env=env, mount_path=SIMULATOR_MOUNT, api_only=True) as server:
        monkeypatch.delenv("ANTHROPIC_API_KEY")
        monkeypatch.delenv("ANTHROPIC_BASE_URL")
        monkeypatch.setenv("AI_CHAT_PORT", str(server.port))
        runtime.reset()
        settings = get_settings()
        assert settings.use_simulator and settings.effective_base_url == server.base_url
        yield server
    runtime.reset()


def _all(chat) -> list:
    return list(chat.messages) + list(chat.new_messages)


async def test_a_built_in_simulator_reply_shows_no_price(tab, builtin):
    await tab.open()
    await tab.send("price? [[sim tokens=40]]")
    await wait_idle(tab)
    # a stopped reply: its usage is an estimate, which must not leave a lone "≈" either
    await tab.send("and this? [[sim tokens=4000 tps=50]]")

    async def streaming() -> bool:
        return bool(await tab.live_text())

    await eventually(streaming, 10, "the second reply to stream")
    await tab.stop()
    await wait_idle(tab)
    chat = await tab.chat()
    replies = [m for m in _all(chat) if m.role == "assistant"]
    assert [m.status for m in replies] == ["complete", "cancelled"]  # cancelled: Stopped
    for reply in replies:
        assert reply.input_tokens > 0 and reply.output_tokens > 0  # usage still shows
        assert reply.cost_usd == 0 and reply.cost_label == ""
    assert replies[1].output_estimated
    assert chat.simulator is True
    assert chat.total_cost == ""

    await tab.open(chat.conversation_id)  # reloaded from the database: still no price
    chat = await tab.chat()
    assert len(_all(chat)) == 4
    assert all(m.cost_usd == 0 and m.cost_label == "" for m in _all(chat))
    assert chat.total_cost == ""


def _row(**usage: int) -> MessageRow:
    return MessageRow(
        conversation_id="c",
        seq=1,
        role="assistant",
        content="hi",
        model="claude-sonnet-5-5",
        input_tokens=usage.get("input_tokens", 1000),
        output_tokens=usage.get("output_tokens", 500),
        request_id="req_sim_0123",
    )


def test_to_view_prices_only_a_priced_endpoint(app_env, monkeypatch: pytest.MonkeyPatch):
    # app_env: an explicit endpoint and key, as with Claude (or a gateway to it)
    priced = to_view(_row())
    assert priced.cost_usd > 0 and priced.cost_label.startswith("$")
    assert format_cost(1.5) == "$1.5000"

    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    runtime.reset()
    assert get_settings().use_simulator
    simulated = to_view(_row())
    assert simulated.cost_usd == 0 and simulated.cost_label == ""
    assert simulated.input_tokens == 1000 and simulated.output_tokens == 500
    assert format_cost(1.5) == ""  # any amount, e.g. a sum of older rows
