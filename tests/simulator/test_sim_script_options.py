"""Unit tests: the reply script and option parsing (no server)."""

from __future__ import annotations

import pytest

from ai_chat.simulator.options import (
    OptionError,
    SimOptions,
    from_env,
    resolve,
    strip_directives,
)
from ai_chat.simulator.script import reply_text, split_tokens


@pytest.mark.parametrize("n", [0, 1, 7, 200, 201, 1000, 5000])
def test_reply_has_exactly_n_tokens_and_round_trips(n: int) -> None:
    text = reply_text("Explain recursion, please.", n)
    tokens = split_tokens(text)
    assert len(tokens) == n
    assert "".join(tokens) == text


def test_reply_looks_like_chat_output() -> None:
    text = reply_text("Explain recursion, please. [[sim tps=10 tag=x]]", 200)
    assert text.startswith("This reply comes from the ai_chat Claude simulator, not from Claude")
    assert "You wrote: “Explain recursion, please.”" in text
    assert "[[sim" not in text and "tag=x" not in text
    assert "```python\n" in text and text.count("```") >= 2
    assert "\n- " in text
    assert text.count("\n\n") >= 4  # several paragraphs


def test_reply_is_deterministic_and_prefix_stable() -> None:
    assert reply_text("hello", 300) == reply_text("hello", 300)
    # A max_tokens cut of a longer reply is the shorter reply.
    assert reply_text("hello", 1200).startswith(reply_text("hello", 300))
    assert reply_text("hello", 50) != reply_text("goodbye", 50)


def test_long_prompt_is_quoted_short_on_one_line() -> None:
    text = reply_text("word " * 100 + "\nsecond line", 400)
    quote_line = next(line for line in text.splitlines() if line.startswith("You wrote"))
    assert len(quote_line) < 80 and quote_line.endswith("…”")


def test_directive_beats_header_beats_env() -> None:
    base = from_env({"AI_CHAT_SIM_TPS": "7", "AI_CHAT_SIM_TOKENS": "8", "AI_CHAT_SIM_TTFT": "9"})
    assert (base.tps, base.tokens, base.ttft) == (7, 8, 9)
    opts = resolve(base, "tokens=20; ttft=1 tag=h", "hi [[sim ttft=0.5 drop=3]]")
    assert (opts.tps, opts.tokens, opts.ttft, opts.drop, opts.tag) == (7, 20, 0.5, 3, "h")
    assert opts.chunk == SimOptions().chunk and opts.error is None


def test_directive_syntax_details() -> None:
    opts = resolve(SimOptions(), None, "[[sim retry-after=3 at=2]] x")
    assert (opts.retry_after, opts.at) == (3, 2)
    # Only the last directive counts (merged user turns must not inherit an old error=);
    # the text around them is the prompt.
    opts = resolve(SimOptions(), None, "[[sim error=529 tokens=5]] hi [[sim tokens=6]]")
    assert (opts.tokens, opts.error) == (6, None)
    assert strip_directives("[[sim tokens=5]] hi [[sim tokens=6]]") == "hi"
    assert resolve(SimOptions(), None, "[[sim]]") == SimOptions()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[sim tps=0]]", "tps"),
        ("[[sim tps=fast]]", "tps"),
        ("[[sim tokens=-1]]", "tokens"),
        ("[[sim ttft=nan]]", "ttft"),
        ("[[sim error=418]]", "error"),
        ("[[sim midstream_error=boom]]", "midstream_error"),
        ("[[sim colour=red]]", "unknown option"),
        ("[[sim tokens]]", "key=value"),
    ],
)
def test_invalid_directive_values_are_rejected(text: str, fragment: str) -> None:
    with pytest.raises(OptionError, match=fragment):
        resolve(SimOptions(), None, text)


def test_invalid_env_fails_at_startup() -> None:
    with pytest.raises(OptionError, match="environment"):
        from_env({"AI_CHAT_SIM_CHUNK": "0"})
