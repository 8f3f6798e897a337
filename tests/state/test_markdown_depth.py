"""The nesting estimate that decides when a reply is shown as plain text (markdown_depth.py).

What the renderer survives was measured in Chromium (the module's docstring); the browser
test (tests/e2e/test_hostile_content_browser.py) proves a too-deep reply opens. Here: every
nesting construct is caught just past the bound and not at it, ordinary Markdown never is,
and the streaming check sees what a whole-text check sees.
"""

from __future__ import annotations

import time

import pytest

from ai_chat.state.live_vars import split_live_text
from ai_chat.state.markdown_depth import MAX_DEPTH, streaming_too_deep, too_deep


def _nested(kind: str, depth: int) -> str:
    """`depth` levels of one construct."""
    return {
        "quotes": ">" * depth + " x",
        "spaced-quotes": "> " * depth + "x",
        "inline-lists": "- " * depth + "x",
        "star-lists": "* " * depth + "x",
        "ordered-lists": "1. " * depth + "x",
        "indented-lists": "\n".join("  " * i + "- item" for i in range(depth)),
        "four-space-lists": "\n".join("    " * i + "- item" for i in range(depth // 2 + 1)),
        "tab-lists": "\n".join("\t" * i + "- item" for i in range(depth // 2 + 1)),
        "quotes-and-lists": "> - " * (depth // 2) + "x",
        "emphasis": "*a " * depth + "x" + " b*" * depth,
        "underscores": "_a " * depth + "x" + " b_" * depth,
        "strikethrough": "~~a " * depth + "x" + " b~~" * depth,
        "strong-run": "*" * (2 * depth) + "x" + "*" * (2 * depth),
        "brackets": "[" * depth + "x" + "]" * depth,
        "links": "[" * depth + "x" + "](https://a.example)" * depth,
        # Siblings between the levels don't hide the nesting (the last sibling is a level).
        "emphasis-with-siblings": "".join(f"*a{i} **b** " for i in range(depth - 1))
        + "x"
        + " c*" * (depth - 1),
        "brackets-with-siblings": "".join(f"[a{i} [b] " for i in range(depth - 1))
        + "x"
        + "]" * (depth - 1),
    }[kind]


KINDS = [
    "quotes",
    "spaced-quotes",
    "inline-lists",
    "star-lists",
    "ordered-lists",
    "indented-lists",
    "emphasis",
    "underscores",
    "strikethrough",
    "strong-run",
    "brackets",
    "links",
    "emphasis-with-siblings",
    "brackets-with-siblings",
]


@pytest.mark.parametrize("kind", KINDS)
def test_nesting_just_past_the_bound_is_too_deep_and_at_it_is_not(kind):
    assert not too_deep(_nested(kind, MAX_DEPTH))
    assert too_deep(_nested(kind, MAX_DEPTH + 1))
    assert too_deep(_nested(kind, 3000))


@pytest.mark.parametrize("kind", ["four-space-lists", "tab-lists", "quotes-and-lists"])
def test_wider_indentation_and_mixed_containers_are_caught_by_the_bound(kind):
    # Estimated generously (a 4-column indent counts as 2 levels): caught by ~2x the bound.
    assert too_deep(_nested(kind, 2 * MAX_DEPTH + 2))
    assert not too_deep(_nested(kind, MAX_DEPTH // 2))


ORDINARY = {
    "rich": (
        "## Rich reply\n\nSteps:\n\n- first\n- second with `inline code`\n\n1. one\n2. two\n\n"
        "| Name | Score |\n|:-----|------:|\n| Ada | 10 |\n\n> a quote\n> > nested once\n\n"
        "Euler: $e^{i\\pi} + 1 = 0$, a [safe link](https://example.com) and ~~struck~~ text."
    ),
    "bold-list": "\n".join(
        f"- **Item {i}**: some *text* and [a link](http://x/{i})" for i in range(500)
    ),
    "python": "```python\n"
    + "def f(*args, **kwargs):\n    return g(*args, **kwargs)\n" * 300
    + "```",
    "snake-case": "my_variable_name = other_variable_name[index_value]\n" * 300,
    "unclosed-openers": "5 *3 *4 " * 200 + "\n\n" + "(**kwargs " * 200,
    "open-brackets-10000": "[" * 10_000,
    "json-arrays": "[" + ",".join("[1, [2, [3, [4]]]]" for _ in range(500)) + "]",
    "indented-code": "\n".join(" " * 70 + "x = 1" for _ in range(50)),
    "yaml-in-a-fence": "```yaml\n" + "\n".join("  " * i + "- a" for i in range(20)) + "\n```",
    "paragraphs-of-openers": ("*a " * 30 + "\n\n") * 30 + "x" + " b*" * 60,
    "huge-line": "lorem ipsum dolor " * 30_000,
}


@pytest.mark.parametrize("name", list(ORDINARY))
def test_ordinary_markdown_is_never_too_deep(name):
    assert not too_deep(ORDINARY[name])


def test_markup_in_fenced_code_does_not_count_in_a_whole_message():
    deep = _nested("emphasis", 100)
    assert not too_deep(f"```\n{deep}\n```\nafter")
    assert too_deep(f"```\n{deep}\n```\n{deep}")  # prose again after the closing fence
    assert too_deep(f"``` `not a fence`\n{deep}")  # a backtick in the info string: no fence
    assert too_deep(f"```\n{deep}", whole=False)  # a piece may start inside code: all counts
    # Containers count even in code: a line of 40 ">" is suspicious anywhere.
    assert too_deep(f"```\n{'>' * 40}\n```")


def _stream(text: str, step: int) -> list[bool]:
    """The live flag after each push of a reply arriving `step` characters at a time,
    with the head/tail split live.py keeps."""
    flags, flag, head, tail = [], False, "", ""
    for end in range(step, len(text) + step, step):
        now = text[:end]
        flag = streaming_too_deep(flag, head, tail, now)
        head, tail = split_live_text(head, now)
        flags.append(flag)
    return flags


@pytest.mark.parametrize("step", [3, 40, 700, 5000])
@pytest.mark.parametrize("kind", ["quotes", "indented-lists", "emphasis", "brackets"])
def test_the_streaming_check_sees_a_deep_reply_and_keeps_its_flag(kind, step):
    deep = "An intro paragraph.\n\n" * 30 + _nested(kind, 200) + "\n\nAnd a calm ending." * 50
    flags = _stream(deep, step)
    assert flags[-1], "a too-deep reply is flagged while it streams"
    assert flags == sorted(flags), "once set, the flag stays"


@pytest.mark.parametrize("step", [3, 40, 5000])
@pytest.mark.parametrize("name", ["rich", "bold-list", "python"])
def test_the_streaming_check_leaves_ordinary_replies_alone(name, step):
    assert not any(_stream(ORDINARY[name], step))


@pytest.mark.parametrize(
    "text",
    [
        "*a " * 100_000 + "x" + " b_" * 100_000,  # openers no closer matches
        "[" * 200_000 + "x" + ")" * 200_000,
        ">" * 400_000,
        " " * 400_000 + "- x",
        "_" * 400_000,
    ],
    ids=["unmatched-emphasis", "unmatched-brackets", "quotes", "indent", "one-run"],
)
def test_hostile_text_is_scanned_in_linear_time(text):
    # A quadratic scan of 400 KB takes minutes; linear takes milliseconds.
    started = time.perf_counter()
    too_deep(text)
    streaming_too_deep(False, "", "", text)
    assert time.perf_counter() - started < 2.0
