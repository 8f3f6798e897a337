"""Deterministic reply text for the simulator.

A "token" here is a slice of 4 characters (the last one may be shorter), so a reply of
n tokens is exactly 4*n characters of one fixed, prompt-dependent text. Because that text
does not depend on n, ``reply_text(p, m)`` is a prefix of ``reply_text(p, n)`` for m <= n:
a max_tokens cut is simply the shorter reply.
"""

from __future__ import annotations

from collections.abc import Iterator

from .options import strip_directives

TOKEN_CHARS = 4
QUOTE_CHARS = 60

_INTRO = (
    "This reply comes from the ai_chat Claude simulator, not from Claude: it is canned, "
    "deterministic text streamed at a configurable pace so the app can be tested offline."
)

_BODY = (
    "A real answer usually opens with a short summary, explains the idea, and ends with "
    "something concrete.\n\n"
    "```python\n"
    "def greet(name: str) -> str:\n"
    '    """Return a friendly greeting."""\n'
    '    return f"Hello, {name}!"\n'
    "```\n\n"
    "What the simulator can do:\n\n"
    "- **Streaming**: text arrives in small deltas.\n"
    "- **Pacing**: tokens per second and first-token delay are set per request.\n"
    "- **Failures**: errors, dropped connections and stalls on demand.\n\n"
    "Ask for a longer reply with the `tokens` option to see more paragraphs like this one."
)

# Extra paragraphs, cycled in order, for replies longer than the core text.
_EXTRA = (
    "Long answers are built from paragraphs like this one, so scrolling, wrapping and "
    "rendering of long Markdown can be checked with text that never changes between runs.",
    "Each paragraph is numbered, which makes it easy to see where a stream stopped when "
    "it was cancelled, dropped or stalled part of the way through.",
    "Nothing here depends on the time of day or on chance: the same prompt and length "
    "always give the same characters, which is what the tests compare against.",
    "Some points to keep in mind:\n\n- A list item inside a long reply.\n"
    "- Another item, with `inline code`.\n"
    "- A third item, to make the list worth rendering.",
)


def _quote(prompt: str) -> str:
    """A short, single-line quote of the prompt without any [[sim ...]] directive."""
    flat = " ".join(strip_directives(prompt).split())
    if len(flat) > QUOTE_CHARS:
        flat = flat[: QUOTE_CHARS - 1].rstrip() + "…"
    return flat


def _paragraphs(prompt: str) -> Iterator[str]:
    yield _INTRO
    quote = _quote(prompt)
    yield f"You wrote: “{quote}”" if quote else "You sent an empty message."
    yield _BODY
    i = 0
    while True:  # endless, deterministic continuation
        yield f"({i + 1}) " + _EXTRA[i % len(_EXTRA)]
        i += 1


def reply_text(prompt: str, n_tokens: int) -> str:
    """The reply to `prompt`, exactly `n_tokens` tokens long (``len(split_tokens(..)) == n``)."""
    if n_tokens <= 0:
        return ""
    want = n_tokens * TOKEN_CHARS
    parts: list[str] = []
    size = 0
    for para in _paragraphs(prompt):
        piece = para if not parts else "\n\n" + para
        parts.append(piece)
        size += len(piece)
        if size >= want:
            break
    return "".join(parts)[:want]


def split_tokens(text: str) -> list[str]:
    """Split into 4-character tokens; ``"".join(split_tokens(t)) == t``."""
    return [text[i : i + TOKEN_CHARS] for i in range(0, len(text), TOKEN_CHARS)]


THINKING_TOKENS = 40


def thinking_text(prompt: str, n_tokens: int = THINKING_TOKENS) -> str:
    """What the simulator "thinks" when extended thinking is on: plainly simulated."""
    base = (
        f"(Simulated thinking.) The user asked: {_quote(prompt)}. A good answer states the "
        "point first, gives an example, then a short summary. "
    )
    want = n_tokens * TOKEN_CHARS
    return (base * (want // len(base) + 1))[:want]
