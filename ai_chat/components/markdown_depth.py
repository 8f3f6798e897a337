"""Whether Markdown nests too deeply to render: such a message is shown as plain text.

react-markdown's pipeline (mdast → hast → React elements) recurses once per nesting level, so
a reply nested deep enough overflows the browser's stack ("Maximum call stack size
exceeded") and the page never renders that conversation again. Measured in Chromium with
this app's renderer (a stored reply opened at /c/<id>): lists broke at ~440 levels (inline
``- - -``, indented, ordered, ``> -`` mixed), blockquotes at ~1,900, ``~~`` strikethrough at
~1,250 (1,000 took 10 s to render), emphasis at ~2,000; 32,000 ``[`` and braces in math
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

MAX_DEPTH = 32
# A streaming reply is checked as it grows: the new text plus this much already checked
# before it, so a structure that straddles two pushes is seen whole.
LIVE_CONTEXT_CHARS = 512

# Regexes that begin with a literal are searched fast (CPython's sre skips to that
# character); one that begins with a character class tries every position (~40 ns each).
# A line start followed by 16 characters that can make a container prefix: the shortest
# prefix that can reach MAX_DEPTH (a tab indents 4 columns: 2 list levels).
_CANDIDATE_LINE = re.compile(r"\n(?=[ \t>*+\-0-9.)]{16})")
_PREFIX = re.compile(r"(?:[ \t>]|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))+", re.M)
_LIST_MARKER = re.compile(r"[-+*]|\d{1,9}[.)]")
_RUNS = {char: re.compile(re.escape(char) * 2 + "*") for char in "*_~"}
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def too_deep(text: str) -> bool:
    """Whether `text` nests deeper than MAX_DEPTH levels (render it as plain text)."""
    return (
        _container_depth(text) > MAX_DEPTH
        or _bracket_depth(text) > MAX_DEPTH
        or any(_emphasis_depth(text, char) > MAX_DEPTH for char in _RUNS)
    )


def live_too_deep(was: bool, head: str, tail: str, text: str) -> bool:
    """For a reply streaming in: `was` the flag so far (it stays set), `head + tail` the text
    checked at the previous push, `text` the reply now. Checks only what is new, plus
    LIVE_CONTEXT_CHARS before it."""
    if was:
        return True
    checked = len(head) + len(tail)
    return too_deep(text[max(0, checked - LIVE_CONTEXT_CHARS) :])


def _container_depth(text: str) -> int:
    starts = [0, *(match.end() for match in _CANDIDATE_LINE.finditer(text))]
    deepest = 0
    for start in starts:
        match = _PREFIX.match(text, start)
        if match is None:
            continue
        prefix = match.group()
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


def _emphasis_depth(text: str, char: str) -> int:
    """The nesting of `char` emphasis (each character on its own: mixing them only adds up to
    3x, far under what breaks the renderer)."""
    if text.count(char) <= 2 * MAX_DEPTH:  # each level needs an opening and a closing one
        return 0
    end = len(text)
    paragraph_ends = [match.start() for match in _BLANK_LINE.finditer(text)]
    paragraph_ends.append(end)
    paragraph = 0
    # The paragraph's open runs: [length, height of what closed inside it].
    stack: list[list[int]] = []
    deepest = 0
    for match in _RUNS[char].finditer(text):
        start, stop = match.span()
        if start > paragraph_ends[paragraph]:  # unmatched runs end with their paragraph
            stack.clear()
            while start > paragraph_ends[paragraph]:
                paragraph += 1
        can_open, can_close = _flanking(
            text[start - 1] if start else "\n", text[stop] if stop < end else "\n", char
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


def _bracket_depth(text: str) -> int:
    """The nesting of matched [...] pairs (10,000 unmatched "[" don't nest), over the whole
    text: paragraph ends are ignored, which can only overestimate."""
    if min(text.count("["), text.count("]")) <= MAX_DEPTH:
        return 0
    stack: list[int] = []  # per open "[": the height of what closed inside it
    deepest = 0
    for index, piece in enumerate(text.split("[")):
        if index:
            stack.append(0)
        for _ in range(min(piece.count("]"), len(stack))):
            height = stack.pop() + 1
            if stack:
                stack[-1] = max(stack[-1], height)
            deepest = max(deepest, height)
        if deepest > MAX_DEPTH:
            break
    return deepest
