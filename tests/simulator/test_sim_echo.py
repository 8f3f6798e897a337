"""`echo=1`: the reply is the last user message verbatim, so tests can inject exact model output."""

from __future__ import annotations

import anthropic
import pytest

from ai_chat.simulator import SimulatorServer, split_tokens
from ai_chat.simulator.options import OptionError, SimOptions, apply_pairs, remove_directives

MODEL = "claude-sim-test"

PAYLOAD = (
    "<script>window.__xss=1</script>\n"
    '<img src=x onerror="window.__xss=1">\n\n'
    "[click](javascript:window.__xss=1) and ![x](http://127.0.0.1:1/_sim/leak?secret=1)\n\n"
    "    indented code keeps its leading spaces\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |"
)


@pytest.mark.asyncio
async def test_echo_streams_the_prompt_verbatim_in_tokens(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    chunks: list[str] = []
    async with client.messages.stream(
        model=MODEL,
        max_tokens=10_000,
        messages=[
            {"role": "user", "content": "earlier turn"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": f"{PAYLOAD} [[sim echo=1 tag={tag}]]"},
        ],
    ) as stream:
        async for text in stream.text_stream:
            chunks.append(text)
        final = await stream.get_final_message()
    assert "".join(chunks) == PAYLOAD
    assert chunks == split_tokens(PAYLOAD)  # still streamed token by token (chunk=1)
    assert len(chunks) > 1
    assert final.content[0].type == "text" and final.content[0].text == PAYLOAD
    assert final.usage.output_tokens == len(split_tokens(PAYLOAD))
    assert final.stop_reason == "end_turn"
    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished)
    assert record.outcome == "complete" and record.options["echo"] is True


@pytest.mark.asyncio
async def test_echo_ignores_tokens_but_honours_max_tokens_and_chunk(
    client: anthropic.AsyncAnthropic,
) -> None:
    prompt = "0123456789abcdefghij"  # 5 tokens
    async with client.messages.stream(
        model=MODEL,
        max_tokens=3,
        messages=[{"role": "user", "content": f"{prompt}[[sim echo=1 tokens=500 chunk=2]]"}],
    ) as stream:
        deltas = [t async for t in stream.text_stream]
        final = await stream.get_final_message()
    assert deltas == ["01234567", "89ab"]
    assert final.stop_reason == "max_tokens" and final.usage.output_tokens == 3


@pytest.mark.asyncio
async def test_echo_off_by_default_and_with_zero(client: anthropic.AsyncAnthropic) -> None:
    for directive in ("[[sim tokens=5]]", "[[sim echo=0 tokens=5]]"):
        message = await client.messages.create(
            model=MODEL, max_tokens=100, messages=[{"role": "user", "content": f"Hi {directive}"}]
        )
        assert message.content[0].text != "Hi"  # type: ignore[union-attr]
        assert message.usage.output_tokens == 5


@pytest.mark.asyncio
async def test_echo_works_from_the_header_and_non_streaming(
    client: anthropic.AsyncAnthropic,
) -> None:
    message = await client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "  **bold** <b>raw</b>  "}],
        extra_headers={"x-sim-options": "echo=1"},
    )
    assert message.content[0].text == "  **bold** <b>raw</b>"  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_bad_echo_value_is_a_400(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError, match="echo"):
        await client.messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "[[sim echo=yes]]"}]
        )


def test_remove_directives_keeps_layout() -> None:
    assert remove_directives("a\n  b [[sim echo=1]]") == "a\n  b"
    assert remove_directives("[[sim echo=1]]\n    code") == "\n    code"
    assert remove_directives("x [[sim tps=1]] y\t[[sim echo=1]]") == "x y"
    assert apply_pairs(SimOptions(), {"echo": "true"}, "t").echo is True
    with pytest.raises(OptionError):
        apply_pairs(SimOptions(), {"echo": "2"}, "t")
