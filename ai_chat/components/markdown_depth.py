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
import string
import unicodedata

MAX_DEPTH = 32
# A streaming reply is checked as it grows: the new text plus this much already checked
# before it, so a structure that straddles two pushes is seen whole.
LIVE_CONTEXT_CHARS = 512

# A line prefix of quote markers, list markers and whitespace at least 16 characters long:
# the shortest prefix that can reach MAX_DEPTH (a tab indents 4 columns: 2 list levels).
_LONG_PREFIX = re.compile(r"^(?:[ \t>]|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)){16,}", re.M)
_LIST_MARKER = re.compile(r"[-+*]|\d{1,9}[.)]")
_EMPHASIS = re.compile(r"[*_~]+|\n[ \t]*(?=\n)")  # runs, and blank lines (paragraph ends)
_BRACKET = re.compile(r"[\[\]]|\n[ \t]*(?=\n)")
_PUNCTUATION = frozenset(string.punctuation)


def too_deep(text: str) -> bool:
    """Whether `text` nests deeper than MAX_DEPTH levels (render it as plain text)."""
    return (
        _container_depth(text) > MAX_DEPTH
        or _emphasis_depth(text) > MAX_DEPTH
        or _bracket_depth(text) > MAX_DEPTH
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
    deepest = 0
    for match in _LONG_PREFIX.finditer(text):
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
    return char in _PUNCTUATION or unicodedata.category(char)[0] in "PS"


def _flanking(before: str, after: str, char: str) -> tuple[bool, bool]:
    """Whether a delimiter run between `before` and `after` can open, and can close."""
    left = not after.isspace() and (not _is_punct(after) or before.isspace() or _is_punct(before))
    right = not before.isspace() and (not _is_punct(before) or after.isspace() or _is_punct(after))
    if char == "_":  # intraword underscores (snake_case) neither open nor close
        return left and (not right or _is_punct(before)), right and (not left or _is_punct(after))
    return left, right


def _emphasis_depth(text: str) -> int:
    # Each level needs an opening and a closing delimiter character.
    if text.count("*") + text.count("_") + text.count("~") <= 2 * MAX_DEPTH:
        return 0
    end = len(text)
    # The paragraph's open runs: [char, length, height of what closed inside it]; and per
    # delimiter character the stack positions of its runs (the nearest one found at once,
    # so 10,000 unmatched openers cost no more than 10,000 matched ones).
    stack: list[list] = []
    where: dict[str, list[int]] = {"*": [], "_": [], "~": []}
    deepest = 0
    for match in _EMPHASIS.finditer(text):
        run = match.group()
        char = run[0]
        if char not in where:  # a blank line: the paragraph ends, unmatched runs with it
            stack.clear()
            for positions in where.values():
                positions.clear()
            continue
        start, stop = match.span()
        can_open, can_close = _flanking(
            text[start - 1] if start else "\n", text[stop] if stop < end else "\n", char
        )
        if can_close and where[char]:
            opener = where[char][-1]
            inner = max(entry[2] for entry in stack[opener:])
            height = inner + (min(len(run), stack[opener][1]) + 1) // 2  # "**" is one level
            del stack[opener:]  # with the unmatched runs inside, as CommonMark does
            for positions in where.values():
                while positions and positions[-1] >= opener:
                    positions.pop()
            if stack:
                stack[-1][2] = max(stack[-1][2], height)
            deepest = max(deepest, height)
            if deepest > MAX_DEPTH:
                break
        elif can_open:
            where[char].append(len(stack))
            stack.append([char, len(run), 0])
    return deepest


def _bracket_depth(text: str) -> int:
    if min(text.count("["), text.count("]")) <= MAX_DEPTH:
        return 0
    stack: list[int] = []  # per open "[": the height of what closed inside it
    deepest = 0
    for match in _BRACKET.finditer(text):
        token = match.group()
        if token == "[":
            stack.append(0)
        elif token == "]":
            if stack:
                height = stack.pop() + 1
                if stack:
                    stack[-1] = max(stack[-1], height)
                deepest = max(deepest, height)
                if deepest > MAX_DEPTH:
                    break
        else:
            stack.clear()  # a blank line ends the paragraph and its brackets
    return deepest
