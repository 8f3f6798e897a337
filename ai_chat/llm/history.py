"""Builds the `messages` list sent to Claude from stored turns (never from the client).

The rule for turns left unanswered (README, "How conversations are sent to Claude"): a user
turn counts as answered only if the turn right after it is a reply with text (complete,
stopped, failed or interrupted part-way: its text is what Claude said). A user turn whose
reply is missing, empty (failed before any text, lost in a crash before the first
checkpoint) or never started is left out of what is sent, together with its empty reply,
and the tab shows it as "No reply" with Retry. It is never glued onto the next question.

A user turn with attachments becomes content blocks: its files (images, PDF and text
documents) first, its text last. Files of earlier turns are sent again, newest first, while
the request stays within the API's size and PDF page limits (`plan_files`, `limit_pages`);
an older file that doesn't fit is replaced by a short note saying so."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from ai_chat.llm.attachment_blocks import TurnFile, file_blocks, request_bytes

__all__ = ["Turn", "TurnFile", "build_messages", "limit_pages", "plan_files", "unanswered"]


class Turn(NamedTuple):
    """A stored turn. A tuple, not a frozen dataclass: a turn builds one per prior message,
    and a frozen dataclass's `__init__` costs an `object.__setattr__` per field, which adds
    up over a long chat's history."""

    role: str  # "user" | "assistant"
    content: str
    status: str = "complete"
    attachments: tuple[TurnFile, ...] = ()  # a user turn's files (bytes only at turn start)


def has_text(turn: Turn) -> bool:
    return bool(turn.content.strip())


def unanswered(turns: Sequence[Turn]) -> list[bool]:
    """For each turn: True for a user turn with no reply text after it (the last turn
    included: its reply was lost or never started)."""
    flags = []
    for i, turn in enumerate(turns):
        following = turns[i + 1] if i + 1 < len(turns) else None
        answered = following is not None and following.role == "assistant" and has_text(following)
        flags.append(turn.role == "user" and not answered)
    return flags


Content = str | list[dict[str, Any]]


def _as_blocks(content: Content) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return content


def _chars(content: Content) -> int:
    """Text of a message, a text file's included (it fills the context as text does)."""
    if isinstance(content, str):
        return len(content)
    total = 0
    for block in content:
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "text":
            total += len(source["data"])
        else:
            total += len(block.get("text", ""))
    return total


def _content(text: str, files: Sequence[TurnFile]) -> Content:
    if not files:
        return text
    return [*file_blocks(files), *_as_blocks(text)]


def build_messages(
    previous_turns: Iterable[Turn],
    new_user_text: str,
    max_chars: int,
    new_files: Sequence[TurnFile] = (),
) -> list[dict[str, Any]]:
    """History snapshot (taken before the new turn was stored) + the new user message.

    - user turns left unanswered are left out (module docstring), and so are assistant
      turns with no text (the API rejects empty content);
    - two turns of one role in a row (not written by this app) are merged so roles alternate;
    - the oldest turns are trimmed to fit `max_chars` (of text), and the list always starts
      with a user turn as the API requires.
    A turn without files keeps its content a plain string.
    """
    history = list(previous_turns)
    skipped = unanswered(history)
    messages: list[dict[str, Any]] = []
    turns = [*history, Turn("user", new_user_text, attachments=tuple(new_files))]
    for turn, skip in zip(turns, [*skipped, False], strict=True):
        if skip or (turn.role == "assistant" and not has_text(turn)):
            continue
        text = turn.content.strip() if turn.role == "assistant" else turn.content
        content = _content(text, turn.attachments)
        if messages and messages[-1]["role"] == turn.role:
            before = messages[-1]["content"]
            if isinstance(before, str) and isinstance(content, str):
                messages[-1]["content"] = before + "\n\n" + content
            else:
                messages[-1]["content"] = [*_as_blocks(before), *_as_blocks(content)]
        else:
            messages.append({"role": turn.role, "content": content})

    total = sum(_chars(m["content"]) for m in messages)
    while len(messages) > 1 and (total > max_chars or messages[0]["role"] != "user"):
        total -= _chars(messages.pop(0)["content"])
    return messages


# Past 20 images in one request the API takes none larger than 2000x2000 px (uploads are
# checked against 8000x8000): older images beyond 20 are left out instead.
MAX_IMAGES = 20


def plan_files(
    history: Sequence[Turn], new_files: Sequence[TurnFile], max_request_bytes: int
) -> set[tuple[int, int]]:
    """Which earlier files (turn index, file index) are sent again: newest first while the
    request's bytes (the text, the new message's files, these) stay within the limit, and
    its images at most MAX_IMAGES. Files of unanswered turns are never sent."""
    used = request_bytes(new_files) + sum(2 * len(t.content.encode()) for t in history)
    images = sum(1 for f in new_files if f.kind == "image")
    chosen: set[tuple[int, int]] = set()
    skipped = unanswered(history)
    for i in range(len(history) - 1, -1, -1):
        if skipped[i]:
            continue
        for j in range(len(history[i].attachments) - 1, -1, -1):
            file = history[i].attachments[j]
            cost = request_bytes([file])
            if used + cost > max_request_bytes:
                continue
            if file.kind == "image":
                if images >= MAX_IMAGES:
                    continue
                images += 1
            used += cost
            chosen.add((i, j))
    return chosen


def limit_pages(
    history: Sequence[Turn], new_files: Sequence[TurnFile], max_pages: int
) -> list[Turn]:
    """`history` with the oldest PDFs left out (no data: a note is sent instead) once the
    request's PDF pages would pass `max_pages` (the new message's pages count first)."""
    pages = sum(f.pages for f in new_files if f.kind == "pdf" and f.data is not None)
    kept: list[Turn] = list(history)
    for i in range(len(kept) - 1, -1, -1):
        files = list(kept[i].attachments)
        for j in range(len(files) - 1, -1, -1):
            file = files[j]
            if file.kind != "pdf" or file.data is None:
                continue
            if pages + file.pages <= max_pages:
                pages += file.pages
            else:
                files[j] = file._replace(data=None)
        kept[i] = kept[i]._replace(attachments=tuple(files))
    return kept
