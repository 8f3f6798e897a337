"""Extended thinking: a thinking block (deltas + signature) streams before the text block."""

from __future__ import annotations

import uuid


async def test_extended_thinking_streams_a_thinking_block_first(client, sim):
    from ai_chat.simulator.script import reply_text, thinking_text

    tag = "thinking-" + uuid.uuid4().hex[:8]
    async with client.messages.stream(
        model="claude-sim-test",
        max_tokens=20000,
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=[{"role": "user", "content": f"Ponder [[sim tokens=12 tag={tag}]]"}],
    ) as stream:
        kinds = [event.delta.type async for event in stream if event.type == "content_block_delta"]
        final = await stream.get_final_message()
    assert kinds[0] == "thinking_delta" and "signature_delta" in kinds
    assert kinds.index("text_delta") > kinds.index("signature_delta")
    assert [block.type for block in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == thinking_text("Ponder")
    assert final.content[1].text == reply_text("Ponder", 12)
    (record,) = sim.recorder.find(tag)
    assert record.thinking == {"type": "enabled", "budget_tokens": 2048}
