"""The header's conversation cost: the loaded history's part is kept apart from the new
turns', so a turn doesn't sum the whole history again, and the total stays exact."""

from __future__ import annotations

from ai_chat.state.views import format_cost
from tests.state.test_send_stream import wait_idle


def _expected(chat) -> str:
    shown = chat._shown_messages()
    total = sum(m.cost_usd for m in shown)
    estimated = any(m.output_estimated and m.cost_usd for m in shown)
    return ("≈" if estimated else "") + format_cost(total)


async def test_the_cost_counts_history_and_new_turns_through_folds_and_reloads(
    tab, sim, monkeypatch
):
    monkeypatch.setattr("ai_chat.state.chat.MIN_FOLD_MESSAGES", 2)  # fold every 2 new turns
    await tab.open()
    seen: list[str] = []
    for i in range(3):
        await tab.send(f"cost {i} [[sim tokens=40 tps=2000 ttft=0]]")
        await wait_idle(tab)
        chat = await tab.chat()
        assert chat.total_cost == _expected(chat) != ""
        seen.append(chat.total_cost)
    assert chat.messages and chat.new_messages  # both parts hold costed turns here
    assert len(set(seen)) == 3  # every reply added to it
    total = chat.total_cost

    await tab.open(chat.conversation_id)  # reload: all of it is the loaded history now
    reloaded = await tab.chat()
    assert reloaded.new_messages == [] and len(reloaded.messages) == 6
    assert reloaded.total_cost == total


async def test_shows_recent_looks_at_the_newest_turns_only(tab, sim):
    await tab.open()
    await tab.send("first [[sim tokens=10 tps=2000 ttft=0]]")
    await wait_idle(tab)
    chat = await tab.chat()
    ids = [m.id for m in chat._shown_messages()]
    assert chat._shows_recent(ids[-1]) and chat._shows_recent(ids[0])
    assert not chat._shows_recent("no-such-id")
    assert not chat._shows_recent(ids[0], within=1)
