"""Whether Markdown nests too deeply to render: such a message is shown as plain text.

react-markdown's pipeline (mdast → hast → React elements) recurses once per nesting level, so
a reply nested deep enough overflows the browser's stack ("Maximum call stack size
exceeded") and the page never renders that conversation again. Measured in Chromium with
this app's renderer (a stored reply opened at /c/<id>): lists broke at ~440 levels (inline
``- - -``, indented, ordered, ``> -`` mixed), blockquotes at ~1,900, ``~~`` strikethrough at
~1,250 (and slow to render well before), emphasis at ~2,000; 32,000 ``[`` and braces in math
rendered. No human-written reply comes near 32 levels, so MAX_DEPTH = 32 leaves a margin of
more than 13x under the weakest construct, for browsers with smaller stacks too.

The estimate is linear and never per token:
- containers: a line's prefix of ``>``, list markers and (inside lists) indentation, found by
  one regex that only matches prefixes long enough to matter (≥ 16 characters);
- inline: emphasis (``*``, ``_``, ``~``) and ``[...]`` as the height of the tree of matched
  pairs, a simplified CommonMark delimiter stack (unmatched openers, such as 10,000 ``[``,
  don't nest), scanned only when there are enough delimiters to reach the bound.
It errs on the side of plain text (fenced code isn't skipped): a false positive costs
formatting, a false negative the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_DEPTH = 32
# A streaming reply is checked as it grows: the new text plus this much already checked
# before it, so a structure that straddles two pushes is seen whole.
LIVE_CONTEXT_CHARS = 512

# Regexes that begin with a literal are searched fast (CPython's sre skips to that
# character); one that begins with a character class is tried at every position.
# A line start followed by 16 characters that can make a container prefix: the shortest
# prefix that can reach MAX_DEPTH (a tab indents 4 columns: 2 list levels).
_CANDIDATE_LINE = re.compile(r"\n(?=[ \t>*+\-0-9.)]{16})")
_PREFIX_LIMIT = 256  # a longer prefix of only markers and indentation is no human's text
_PREFIX = re.compile(
    r"(?:[ \t>]|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)){1," + str(_PREFIX_LIMIT) + "}", re.M
)
_LIST_MARKER = re.compile(r"[-+*]|\d{1,9}[.)]")
# Lines that always start a new block, so inline markup can't span them: a blank line, a
# bullet or "1." item (other numbers can't interrupt a paragraph), a heading, a code fence.
# Unsure cases (indented lines, quote continuations) don't split: a bigger block is safe.
_BLOCK_START = re.compile(
    r"\n(?=[ \t]*\n| {0,3}(?:[-+*][ \t]+\S|1[.)][ \t]+\S|#{1,6}(?:[ \t]|$)|```|~~~))", re.M
)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})([^\n]*)")
_RUNS = {char: re.compile(re.escape(char) * 2 + "*") for char in "*_~"}


def too_deep(text: str, *, whole: bool = True) -> bool:
    """Whether `text` nests deeper than MAX_DEPTH levels (render it as plain text).
    `whole`: `text` is a whole message, so its fenced code is known and skipped (code shows
    no markup); a piece of one is scanned all through (it may begin inside code)."""
    if _container_depth(text) > MAX_DEPTH:
        return True
    if not _may_nest_inline(text):  # most replies: a few C-level counts and done
        return False
    blocks = _prose_blocks(text) if whole else _BLOCK_START.split(text)
    return any(_may_nest_inline(block) and _inline_too_deep(block) for block in blocks)


def _may_nest_inline(text: str) -> bool:
    # Each level needs an opening and a closing character (spelled out: this runs per push).
    pairs = 2 * MAX_DEPTH
    return (
        text.count("*") > pairs
        or text.count("_") > pairs
        or text.count("~") > pairs
        or (text.count("[") > MAX_DEPTH and text.count("]") > MAX_DEPTH)
    )


def _prose_blocks(text: str) -> Iterator[str]:
    """The blocks of `text` outside fenced code (a fence starts a block of its own)."""
    fence = ""  # the open fence, while in code
    for block in _BLOCK_START.split(text):
        match = _FENCE.match(block)
        if not fence:
            # A backtick fence whose info string has a backtick is no fence (CommonMark).
            if match and not (match[1][0] == "`" and "`" in match[2]):
                fence = match[1]
                continue
            yield block
        elif match and match[1][0] == fence[0] and len(match[1]) >= len(fence):
            if not match[2].strip():  # a closing fence: prose again after it
                fence = ""
                yield block


def _inline_too_deep(block: str) -> bool:
    return _bracket_depth(block) > MAX_DEPTH or any(
        _emphasis_depth(block, char) > MAX_DEPTH for char in _RUNS
    )


def streaming_too_deep(was: bool, head: str, tail: str, text: str) -> bool:
    """For a reply streaming in: `was` the flag so far (it stays set), `head + tail` the text
    checked at the previous push, `text` the reply now. Checks only what is new, plus
    LIVE_CONTEXT_CHARS before it."""
    if was:
        return True
    checked = len(head) + len(tail)
    return too_deep(text[max(0, checked - LIVE_CONTEXT_CHARS) :], whole=False)


def _container_depth(text: str) -> int:
    deepest = 0
    for start in (0, *(match.end() for match in _CANDIDATE_LINE.finditer(text))):
        match = _PREFIX.match(text, start)
        if match is None:
            continue
        prefix = match.group()
        if len(prefix) == _PREFIX_LIMIT:
            return _PREFIX_LIMIT
        quotes = prefix.count(">")
        markers = len(_LIST_MARKER.findall(prefix))
        levels = quotes + markers
        if markers:  # a list nests by indentation too: at least 2 columns a level
            spaces = prefix.expandtabs(4).count(" ") - levels  # one space after each marker
            levels += max(0, spaces) // 2
        deepest = max(deepest, levels)
        if deepest > MAX_DEPTH:
            break
    return deepest


def _is_punct(char: str) -> bool:
    return not (char.isalnum() or char.isspace())


def _flanking(before: str, after: str, char: str) -> tuple[bool, bool]:
    """Whether a delimiter run between `before` and `after` can open, and can close."""
    left = not after.isspace() and (not _is_punct(after) or not before.isalnum())
    right = not before.isspace() and (not _is_punct(before) or not after.isalnum())
    if char == "_":  # intraword underscores (snake_case) neither open nor close
        return left and (not right or _is_punct(before)), right and (not left or _is_punct(after))
    return left, right


def _emphasis_depth(block: str, char: str) -> int:
    """The nesting of `char` emphasis in one block (each character on its own: mixing
    them only adds up to 3x, far under what breaks the renderer)."""
    if block.count(char) <= 2 * MAX_DEPTH:
        return 0
    end = len(block)
    stack: list[list[int]] = []  # the open runs: [length, height of what closed inside]
    deepest = 0
    for match in _RUNS[char].finditer(block):
        start, stop = match.span()
        can_open, can_close = _flanking(
            block[start - 1] if start else "\n", block[stop] if stop < end else "\n", char
        )
        if can_close and stack:
            length, inner = stack.pop()
            height = inner + (min(stop - start, length) + 1) // 2  # "**" is one level
            if stack:
                stack[-1][1] = max(stack[-1][1], height)
            deepest = max(deepest, height)
            if deepest > MAX_DEPTH:
                break
        elif can_open:
            stack.append([stop - start, 0])
    return deepest


def _bracket_depth(block: str) -> int:
    """The nesting of matched [...] pairs in one block (10,000 unmatched "[" don't nest)."""
    if min(block.count("["), block.count("]")) <= MAX_DEPTH:
        return 0
    stack: list[int] = []  # per open "[": the height of what closed inside it
    deepest = 0
    for index, piece in enumerate(block.split("[")):
        if index:
            stack.append(0)
        for _ in range(min(piece.count("]"), len(stack))):
            height = stack.pop() + 1
            if stack:
                stack[-1] = max(stack[-1], height)
            deepest = max(deepest, height)
            if deepest > MAX_DEPTH:
                return deepest
    return deepest
