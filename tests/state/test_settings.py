"""Per-conversation settings reach Claude; costs are computed from the model table."""

from __future__ import annotations

import pytest

from ai_chat.llm.catalog import Usage, cost_usd
from ai_chat.state.settings import SettingsError, SettingsState, parse_settings
from tests.generation.helpers import stored_messages, unique_tag
from tests.state.test_send_stream import wait_idle


def test_parse_settings_validates_against_the_model_table():
    values = parse_settings(
        {
            "model": "claude-haiku-4-5-20251001",
            "temperature": "0.3",
            "max_output_tokens": "1000",
            "system_prompt": "Be brief.  ",
        }
    )
    # no temperature: API 2026-10-21 rejects it
    assert values == {
        "model": "claude-haiku-4-5-20251001",
        "system_prompt": "Be brief.",
        "max_output_tokens": 1000,
        "thinking_budget": None,
    }
    with pytest.raises(SettingsError, match="between 1 and 64000"):
        parse_settings({"model": "claude-haiku-4-5-20251001", "max_output_tokens": "100000"})
    with pytest.raises(SettingsError, match="Unknown model"):
        parse_settings({"model": "gpt-9"})
    with pytest.raises(SettingsError, match="must be a number"):
        parse_settings({"max_output_tokens": "lots"})
    assert parse_settings({"thinking": "on"})["thinking_budget"] == 8192


def test_cost_uses_cache_multipliers():
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_creation_input_tokens=1_000_000,
        cache_read_input_tokens=1_000_000,
    )
    # sonnet 5.5: $2 in, $10 out; write 1.25x, read 0.1x
    assert cost_usd("claude-sonnet-5-5", usage) == pytest.approx(2 + 1 + 2.5 + 0.2)
    assert cost_usd("unknown-model", usage) is None


async def test_settings_chosen_before_the_first_message_shape_the_request(tab, sim):
    await tab.open()
    await tab.fire(SettingsState, "open_dialog")
    await tab.fire(
        SettingsState, "save", form={"model": "claude-haiku-5-5", "system_prompt": "You are terse."}
    )
    tag = unique_tag()
    await tab.send(f"hi [[sim tokens=10 tps=1000 ttft=0 tag={tag}]]")
    await wait_idle(tab)
    (record,) = sim.recorder.find(tag)
    assert record.model == "claude-haiku-5-5"
    assert record.system == "You are terse."
    chat = await tab.chat()
    assert chat.model == "Claude Haiku 5.5"
    rows = await stored_messages(chat.conversation_id, owner=tab.owner)
    assert rows[-1].model == "claude-haiku-5-5"
    assert chat._shown_messages()[-1].cost_usd > 0 and "$" in chat.total_cost

    # changed later, the next turn uses the new settings; the system prompt is byte-stable
    await tab.fire(
        SettingsState, "save", form={"model": "claude-opus-5-5", "system_prompt": "You are terse."}
    )
    tag2 = unique_tag()
    await tab.send(f"again [[sim tokens=10 tps=1000 ttft=0 tag={tag2}]]")
    await wait_idle(tab)
    (second,) = sim.recorder.find(tag2)
    assert second.model == "claude-opus-5-5" and second.system == record.system


async def test_extended_thinking_streams_apart_and_is_stored(tab, sim):
    from ai_chat.simulator.script import thinking_text

    await tab.open()
    await tab.fire(SettingsState, "save", form={"thinking": "on", "thinking_budget": "2048"})
    tag = unique_tag()
    await tab.send(f"Ponder this [[sim tokens=20 tps=200 ttft=0 tag={tag}]]")
    seen: list[str] = []

    async def thought() -> bool:
        seen.append((await tab.live()).live_thinking)
        return bool(seen[-1])

    from tests.conftest import eventually

    await eventually(thought, what="thinking to stream")
    await wait_idle(tab)
    (record,) = sim.recorder.find(tag)
    assert record.thinking == {"type": "enabled", "budget_tokens": 2048}
    assert record.cache_control == {"type": "ephemeral"}  # prompt caching on every request
    final = (await tab.chat())._shown_messages()[-1]
    assert final.thinking == thinking_text("Ponder this")
    assert not final.content.startswith("(Simulated thinking.)")  # the answer stays apart
    rows = await stored_messages((await tab.chat()).conversation_id, owner=tab.owner)
    assert rows[-1].thinking == final.thinking
