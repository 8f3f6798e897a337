"""A user turn's files as Messages API content blocks: an image block (base64), a PDF as a
document block (base64), a text file as a document block with a text source titled by its
name. A file left out of the request (`data` None) becomes a short text note instead."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple


class TurnFile(NamedTuple):
    """A file of a user turn, as the request needs it (no ids: nothing here goes to a tab)."""

    kind: str  # "image" | "pdf" | "text" (store.models.AttachmentKind)
    media_type: str
    filename: str
    size: int
    sha256: str
    data: bytes | None = None  # None: not sent with this request (a note says so)
    pages: int = 0  # PDFs, once their bytes were read


def size_label(size: int) -> str:
    if size < 1000:
        return f"{size:,} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.0f} KB"
    return f"{size / 1_000_000:.1f} MB"


def request_bytes(files: Iterable[TurnFile]) -> int:
    """What these files add to a request's body: base64 for images and PDFs; a text's JSON
    string, with an eighth more for escapes (store.attachments.encoded_size, same rule)."""
    total = 0
    for file in files:
        if file.kind == "text":
            total += file.size + file.size // 8
        else:
            total += 4 * ((file.size + 2) // 3)
    return total


def left_out_note(file: TurnFile) -> str:
    return (
        f"[An earlier attachment, “{file.filename}” ({file.media_type}, "
        f"{size_label(file.size)}), is not included again: the request would pass Claude's "
        "size or page limit.]"
    )


def file_block(file: TurnFile) -> dict[str, Any]:
    if file.data is None:
        return {"type": "text", "text": left_out_note(file)}
    if file.kind == "text":
        text = file.data.decode("utf-8", errors="replace").removeprefix("\ufeff")
        source = {"type": "text", "media_type": "text/plain", "data": text}
        return {"type": "document", "source": source, "title": file.filename}
    encoded = base64.b64encode(file.data).decode("ascii")
    source = {"type": "base64", "media_type": file.media_type, "data": encoded}
    if file.kind == "pdf":
        return {"type": "document", "source": source, "title": file.filename}
    return {"type": "image", "source": source}


def file_blocks(files: Sequence[TurnFile]) -> list[dict[str, Any]]:
    return [file_block(file) for file in files]
