"""Attachments: a user's files, stored content-addressed (identical bytes once), uploaded
before their message exists and linked to it when the turn starts. Every query takes the
owner: another user's attachment is as absent as an unknown id."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from ai_chat.config import Settings
from ai_chat.store import attachment_cleanup as cleanup
from ai_chat.store.models import Attachment, AttachmentBlob, AttachmentKind, Message, utcnow

FILES_PREFIX = "/_files"
TEXT_ROOM = 1 << 20  # of a request's bytes, kept for the message's text and the JSON around it
_BLOB_TABLE: sa.Table = AttachmentBlob.__table__  # type: ignore[attr-defined]  # set by SQLModel


class AttachmentRefused(ValueError):
    """Files that can't go with this message; `str()` is the sentence for the user."""


@dataclasses.dataclass(frozen=True)
class AttachmentView:
    """What a tab may hold of an attachment: never its bytes."""

    id: str
    filename: str
    kind: str
    media_type: str
    size: int
    url: str
    thumb_url: str  # "" when there is no preview (PDF, text)

    def as_dict(self) -> dict[str, str | int]:
        return dataclasses.asdict(self)


def view(attachment: Attachment) -> AttachmentView:
    url = f"{FILES_PREFIX}/{attachment.id}"
    return AttachmentView(
        id=attachment.id,
        filename=attachment.filename,
        kind=attachment.kind,
        media_type=attachment.media_type,
        size=attachment.size,
        url=url,
        thumb_url=f"{url}/thumb" if attachment.thumb_sha256 else "",
    )


def _insert_blob(session: Session, sha256: str, data: bytes) -> None:
    """The blob stored once: a concurrent upload of the same bytes (another worker) is
    no conflict."""
    values = {"sha256": sha256, "size": len(data), "data": data, "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_BLOB_TABLE).values(values).on_conflict_do_nothing(index_elements=["sha256"])
    session.connection().execute(statement)


def store_upload_sync(
    session: Session,
    owner: str,
    *,
    data: bytes,
    sha256: str,
    filename: str,
    media_type: str,
    kind: AttachmentKind,
    thumb: tuple[str, bytes] | None = None,  # (sha256, bytes) of the preview
) -> Attachment:
    """A new unsent attachment of `owner` (its bytes stored unless already there)."""
    _insert_blob(session, sha256, data)
    if thumb is not None:
        _insert_blob(session, *thumb)
    attachment = Attachment(
        owner=owner,
        sha256=sha256,
        filename=filename,
        media_type=media_type,
        kind=kind.value,
        size=len(data),
        thumb_sha256=thumb[0] if thumb else None,
    )
    session.add(attachment)
    session.flush()
    return attachment


def get_owned_sync(session: Session, owner: str, attachment_id: str) -> Attachment | None:
    if not attachment_id or len(attachment_id) > 32:
        return None
    query = select(Attachment).where(Attachment.id == attachment_id, Attachment.owner == owner)
    return session.exec(query).first()


def blob_sync(session: Session, sha256: str) -> bytes | None:
    data = session.exec(select(AttachmentBlob.data).where(AttachmentBlob.sha256 == sha256)).first()
    return bytes(data) if data is not None else None


def blobs_sync(session: Session, shas: Iterable[str]) -> dict[str, bytes]:
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    rows = session.exec(
        select(AttachmentBlob.sha256, AttachmentBlob.data).where(
            col(AttachmentBlob.sha256).in_(wanted)
        )
    ).all()
    return {sha: bytes(data) for sha, data in rows}


def _clean_ids(ids: Iterable[object]) -> list[str]:
    """Ids as given by a client: strings of an id's length, each once, in order."""
    seen: dict[str, None] = {}
    for value in ids:
        if isinstance(value, str) and 0 < len(value) <= 32:
            seen.setdefault(value, None)
    return list(seen)


def pending_sync(session: Session, owner: str, ids: Iterable[object]) -> list[Attachment]:
    """The caller's own unsent attachments among `ids`, in the given order (others,
    unknown, sent or malformed ids are left out)."""
    wanted = _clean_ids(ids)
    if not wanted:
        return []
    rows = session.exec(
        select(Attachment).where(
            col(Attachment.id).in_(wanted),
            Attachment.owner == owner,
            col(Attachment.message_id).is_(None),
        )
    ).all()
    by_id = {row.id: row for row in rows}
    return [by_id[i] for i in wanted if i in by_id]


def for_messages_sync(
    session: Session, owner: str, message_ids: Iterable[str]
) -> dict[str, list[Attachment]]:
    """Each message's attachments (ordered by position); messages without any are absent."""
    wanted = sorted(set(message_ids))
    if not wanted:
        return {}
    rows = session.exec(
        select(Attachment)
        .where(col(Attachment.message_id).in_(wanted), Attachment.owner == owner)
        .order_by(col(Attachment.message_id), col(Attachment.position))
    ).all()
    found: dict[str, list[Attachment]] = {}
    for row in rows:
        assert row.message_id is not None  # selected by it
        found.setdefault(row.message_id, []).append(row)
    return found


def copy_to_message_sync(
    session: Session, owner: str, source_message_id: str, new_message_id: str
) -> list[Attachment]:
    """The files of `source_message_id` given to `new_message_id` too (an edited message
    keeps its files): new rows naming the same blobs."""
    sources = for_messages_sync(session, owner, [source_message_id]).get(source_message_id, [])
    copies = [
        Attachment(
            owner=owner,
            sha256=a.sha256,
            filename=a.filename,
            media_type=a.media_type,
            kind=a.kind,
            size=a.size,
            thumb_sha256=a.thumb_sha256,
            message_id=new_message_id,
            position=a.position,
        )
        for a in sources
    ]
    session.add_all(copies)
    session.flush()
    return copies


def link_sync(
    session: Session,
    owner: str,
    message_id: str,
    ids: Sequence[str],
    *,
    max_files: int,
    max_encoded_bytes: int,
) -> list[Attachment]:
    """The files sent with a user message, linked to it (in the turn's transaction). Raises
    AttachmentRefused when one isn't the owner's unsent file, or they are too many or too
    large together."""
    wanted = _clean_ids(ids)
    if not wanted:
        return []
    # An edited message may have its files already (copies): the new ones go after them.
    had = for_messages_sync(session, owner, [message_id]).get(message_id, [])
    if len(had) + len(wanted) > max_files:
        raise AttachmentRefused(f"At most {max_files} files can go with one message.")
    found = pending_sync(session, owner, wanted)
    if len(found) != len(wanted):
        raise AttachmentRefused(
            "A file you attached is no longer available (already sent, or removed). "
            "Attach it again."
        )
    if sum(encoded_size(a.kind, a.size) for a in [*had, *found]) > max_encoded_bytes:
        raise AttachmentRefused(
            "These files are too large together for one message to Claude. "
            "Send fewer of them at a time."
        )
    for position, attachment in enumerate(found, start=len(had)):
        attachment.message_id, attachment.position = message_id, position
        session.add(attachment)
    session.flush()
    return found


def files_budget(settings: Settings) -> int:
    """What one message's files may add to a request together (`encoded_size` summed)."""
    return max(0, settings.request_max_bytes - TEXT_ROOM)


def encoded_size(kind: str, size: int) -> int:
    """Bytes a file adds to a request: base64 for images and PDFs; a text file's JSON
    string (an eighth more for escapes)."""
    if kind == AttachmentKind.TEXT.value:
        return size + size // 8
    return 4 * ((size + 2) // 3)


@dataclasses.dataclass(frozen=True)
class HistoryFile:
    """A file of an earlier turn, without its bytes: which ones are sent is decided first."""

    seq: int  # its message's place in the conversation
    attachment: Attachment


def conversation_files_sync(session: Session, conversation_id: str) -> list[HistoryFile]:
    """Every file linked to a message of this conversation (its owner already checked)."""
    rows = session.exec(
        select(Attachment, Message.seq)
        .join(Message, col(Message.id) == col(Attachment.message_id))
        .where(Message.conversation_id == conversation_id)
        .order_by(col(Message.seq), col(Attachment.position))
    ).all()
    return [HistoryFile(seq, attachment) for attachment, seq in rows]


def delete_unsent_sync(session: Session, owner: str, attachment_id: str) -> bool:
    """The owner removes a file before sending it."""
    condition = sa.and_(
        col(Attachment.id) == attachment_id,
        col(Attachment.owner) == owner,
        col(Attachment.message_id).is_(None),
    )
    return cleanup.delete_where(session, condition) > 0
