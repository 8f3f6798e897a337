"""A turn's files: linked to its user message in the transaction that stores it, and the
bytes its request needs (this message's files, and earlier turns' within the request's
limits), read at the turn's start, outside any Reflex state.

The store functions wrap the turn's own (store/turns.py) so the link is in its transaction:
a refused file rolls the whole turn back (nothing stored, the files stay unsent)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session

from ai_chat.config import Settings
from ai_chat.files.inspect import PAGE_COUNTS, Refused, pdf_pages, remember_pages
from ai_chat.generation.job import GenerationJob
from ai_chat.llm.history import Turn, TurnFile, limit_pages, plan_files
from ai_chat.store import attachments as files
from ai_chat.store.attachments import AttachmentRefused, HistoryFile
from ai_chat.store.db import run_read
from ai_chat.store.models import Attachment, Conversation, MessageRow

log = logging.getLogger(__name__)
Earlier = list[HistoryFile]  # the files of the turns before this one, with their place

__all__ = [
    "AttachmentRefused",
    "HistoryFile",
    "load",
    "read_history_sync",
    "stored_turn_sync",
]


def _link(
    session: Session, job: GenerationJob, message: MessageRow, s: Settings
) -> list[Attachment]:
    """The job's uploads linked to the stored user message, and every file it has (a
    regenerated question keeps its own; an edit's new version got copies of the edited
    one's)."""
    if job.attachment_ids:
        files.link_sync(
            session,
            job.owner,
            message.id,
            job.attachment_ids,
            max_files=s.attachment_max_files,
            max_encoded_bytes=files.files_budget(s),
        )
    elif job.version_of is None:
        return []  # a new message without uploads: nothing is linked to it
    return files.for_messages_sync(session, job.owner, [message.id]).get(message.id, [])


def _earlier(session: Session, conversation: Conversation, previous: Sequence[Any]) -> Earlier:
    return files.conversation_files_sync(session, conversation.id) if previous else []


def stored_turn_sync(
    session: Session, job: GenerationJob, s: Settings, work: Callable[..., Any], *args: Any
) -> tuple[Any, Earlier, list[Attachment]]:
    """`work(session, *args)` stores the user turn (store/turns.py), returning the stored
    user message, or (conversation, the turns before it, the user message, ...). In the same
    transaction: the job's uploads linked to it, and the earlier turns' files (no bytes)."""
    result = work(session, *args)
    if isinstance(result, MessageRow):
        return result, [], _link(session, job, result, s)
    conversation, previous, message = result[0], result[1], result[2]
    return result, _earlier(session, conversation, previous), _link(session, job, message, s)


def read_history_sync(
    session: Session, work: Callable[..., Any], *args: Any
) -> tuple[Any, Earlier]:
    """`work(session, *args)` reads a turn's history (store/turns.py), returning
    (conversation, the turns, ...); and those turns' files (no bytes)."""
    result = work(session, *args)
    conversation, previous = result[0], result[1]
    return result, _earlier(session, conversation, previous)


def turn_file(attachment: Attachment) -> TurnFile:
    return TurnFile(
        kind=attachment.kind,
        media_type=attachment.media_type,
        filename=attachment.filename,
        size=attachment.size,
        sha256=attachment.sha256,
    )


def files_by_seq(earlier: Sequence[HistoryFile]) -> dict[int, tuple[TurnFile, ...]]:
    grouped: dict[int, list[TurnFile]] = {}
    for found in earlier:
        grouped.setdefault(found.seq, []).append(turn_file(found.attachment))
    return {seq: tuple(group) for seq, group in grouped.items()}


async def _pages(file: TurnFile) -> TurnFile:
    if file.kind != "pdf" or file.data is None:
        return file
    pages = PAGE_COUNTS.get(file.sha256)
    if pages is None:
        try:
            pages = await asyncio.to_thread(pdf_pages, file.data, file.filename)
        except Refused:
            pages = 0  # checked on upload; a reader's hiccup now lets the API judge it
        remember_pages(file.sha256, pages)
    return file._replace(pages=pages)


async def load(
    history: Sequence[Turn],
    linked: Sequence[Attachment],
    s: Settings,
    db_url: str | None = None,
) -> tuple[tuple[Turn, ...], tuple[TurnFile, ...]]:
    """The history and this message's files with the bytes the request sends: all of this
    message's, and earlier ones newest first while the request stays within its limits
    (the others keep no bytes: a note replaces them)."""
    new_files = [turn_file(a) for a in linked]
    if not new_files and not any(turn.attachments for turn in history):
        return tuple(history), ()
    chosen = plan_files(history, new_files, s.request_max_bytes - files.TEXT_ROOM)
    wanted = {f.sha256 for f in new_files}
    wanted |= {history[i].attachments[j].sha256 for i, j in chosen}
    blobs = await run_read(files.blobs_sync, wanted, url=db_url)
    new_files = [await _pages(f._replace(data=blobs.get(f.sha256))) for f in new_files]
    filled: list[Turn] = []
    for i, turn in enumerate(history):
        if not turn.attachments:
            filled.append(turn)
            continue
        turn_files = [
            await _pages(f._replace(data=blobs.get(f.sha256) if (i, j) in chosen else None))
            for j, f in enumerate(turn.attachments)
        ]
        filled.append(turn._replace(attachments=tuple(turn_files)))
    kept = limit_pages(filled, new_files, s.attachment_pdf_max_pages)
    return tuple(kept), tuple(new_files)


async def new_pages_refusal(job: GenerationJob, s: Settings, db_url: str | None = None) -> str:
    """Before the turn is stored: "" when this message's PDFs fit one request's page limit,
    else the sentence for the user."""
    if not job.attachment_ids:
        return ""
    pending = await run_read(files.pending_sync, job.owner, job.attachment_ids, url=db_url)
    pdfs = [turn_file(a) for a in pending if a.kind == "pdf"]
    if not pdfs:
        return ""
    missing = {f.sha256 for f in pdfs if f.sha256 not in PAGE_COUNTS}
    blobs = await run_read(files.blobs_sync, missing, url=db_url) if missing else {}
    total = 0
    for file in pdfs:
        total += (await _pages(file._replace(data=blobs.get(file.sha256, b"")))).pages
    if total <= s.attachment_pdf_max_pages:
        return ""
    return (
        f"These PDFs have {total} pages together; Claude reads at most "
        f"{s.attachment_pdf_max_pages} pages per message. Send fewer of them at a time."
    )
