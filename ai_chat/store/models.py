"""SQLModel tables. Plain `SQLModel, table=True` (rx.Model is deprecated)."""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Re-exported: the app imports ids and clocks with the tables.
from ai_chat.store.columns import TIMESTAMP
from ai_chat.store.columns import new_id as new_id
from ai_chat.store.columns import utcnow as utcnow


class Role(str, enum.Enum):
    USER = "user"
    ASSISTANT = "assistant"


class MessageStatus(str, enum.Enum):
    """Lifecycle of a message. An assistant turn is written "thinking" when its turn starts
    (with a lease), checkpointed "streaming", and updated to one of the last four."""

    THINKING = "thinking"  # sent to Claude, no token yet
    STREAMING = "streaming"  # tokens arriving
    COMPLETE = "complete"
    CANCELLED = "cancelled"  # stopped by the user; partial text kept
    FAILED = "failed"  # error; partial text kept, `error` says why
    INTERRUPTED = "interrupted"  # the server died mid-reply (crash recovery)

    @property
    def is_final(self) -> bool:
        return self not in (MessageStatus.THINKING, MessageStatus.STREAMING)


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    owner: str = Field(index=True, max_length=64)
    title: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP, index=True)
    # Per-conversation settings; None = the server default (AI_CHAT_* env).
    model: str | None = Field(default=None, max_length=64)
    system_prompt: str = Field(default="", sa_type=sa.Text)
    max_output_tokens: int | None = None
    thinking_budget: int | None = None  # extended thinking when set


class Message(SQLModel, table=True):
    __tablename__ = "message"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "seq", name="uq_message_seq"),
        # Only replies in flight have a lease: the sweeper's query reads this small index.
        sa.Index(
            "ix_message_lease_until",
            "lease_until",
            sqlite_where=sa.text("lease_until IS NOT NULL"),
            postgresql_where=sa.text("lease_until IS NOT NULL"),
        ),
        # Versions (store/branches.py): a message's siblings (its other versions), and the
        # versions not shown (few): a conversation without any is one line, its last row
        # the end of the path (a turn's write needs no walk).
        sa.Index("ix_message_parent", "conversation_id", "parent_id"),
        sa.Index(
            "ix_message_inactive",
            "conversation_id",
            sqlite_where=sa.text("NOT active"),
            postgresql_where=sa.text("NOT active"),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    conversation_id: str = Field(foreign_key="conversation.id", index=True, max_length=32)
    seq: int = Field(description="order key within the conversation")
    role: str = Field(max_length=16)
    content: str = Field(default="", sa_type=sa.Text)
    thinking: str = Field(default="", sa_type=sa.Text)  # extended thinking shown apart
    status: str = Field(default=MessageStatus.COMPLETE.value, max_length=16)
    model: str | None = Field(default=None, max_length=64)
    stop_reason: str | None = Field(default=None, max_length=32)
    input_tokens: int | None = None
    output_tokens: int | None = None
    output_tokens_estimated: bool = False
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    request_id: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)
    completed_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)
    # A reply in flight: its worker renews this (checkpoints); once it has passed, the
    # worker is gone and the reply is stored as interrupted. None once the reply ended.
    lease_until: datetime | None = Field(default=None, sa_type=TIMESTAMP)
    # Versions (store/branches.py): the message before this one on its branch (None: a first
    # message); messages with the same parent are versions of one turn, and `active` marks
    # the one shown. The conversation shown is the path of active messages from the root.
    parent_id: str | None = Field(default=None, max_length=32)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class AttachmentKind(str, enum.Enum):
    IMAGE = "image"  # an image content block
    PDF = "pdf"  # a document block (base64 PDF)
    TEXT = "text"  # a document block (plain text): text and code files


class AttachmentBlob(SQLModel, table=True):
    """A file's bytes, stored once however many attachments name them (content-addressed:
    the key is the SHA-256 of the bytes). In the database, so every worker and both
    databases see the same files with nothing else to back up."""

    __tablename__ = "attachment_blob"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    data: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)


class Attachment(SQLModel, table=True):
    """One file given by a user: uploaded first (no message yet), then linked to the user
    message it was sent with. Only its owner may read it."""

    __tablename__ = "attachment"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    owner: str = Field(index=True, max_length=64)
    sha256: str = Field(foreign_key="attachment_blob.sha256", index=True, max_length=64)
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=128)
    kind: str = Field(max_length=16)  # AttachmentKind
    size: int
    # A small preview (images only), also a blob: a conversation with many photos opens on
    # previews, the full file is fetched when the user opens it.
    thumb_sha256: str | None = Field(
        default=None, foreign_key="attachment_blob.sha256", max_length=64
    )
    message_id: str | None = Field(
        default=None, foreign_key="message.id", index=True, max_length=32
    )
    position: int = 0  # order within its message
    created_at: datetime = Field(default_factory=utcnow, sa_type=TIMESTAMP)


@dataclasses.dataclass(slots=True)
class MessageRow:
    """A `message` row as a turn writes it (a Core INSERT) and hands it on: the columns of
    `Message`, with its defaults. A plain dataclass, because building the ORM model sets each
    field through SQLAlchemy's instrumentation, on the hot path twice a turn."""

    conversation_id: str
    seq: int
    role: str
    id: str = dataclasses.field(default_factory=new_id)
    content: str = ""
    thinking: str = ""
    status: str = MessageStatus.COMPLETE.value
    model: str | None = None
    stop_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    output_tokens_estimated: bool = False
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    request_id: str | None = None
    error: str | None = None
    created_at: datetime = dataclasses.field(default_factory=utcnow)
    completed_at: datetime | None = None
    lease_until: datetime | None = None
    parent_id: str | None = None
    active: bool = True


# The account tables live in users.py; imported here so that every importer of the models
# (alembic, `reflex db`, the app) registers them too. users.py imports only `columns`.
from ai_chat.store import users as _users  # noqa: E402, F401
