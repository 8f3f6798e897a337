"""A turn's messages: the job a run is given, and what it tells the tab on the way."""

from __future__ import annotations

import dataclasses

from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.limits import UserLimits
from ai_chat.llm.history import Turn, TurnFile
from ai_chat.store.models import Conversation, MessageRow


@dataclasses.dataclass(frozen=True)
class GenerationJob:
    owner: str
    conversation_id: str | None  # None: create the conversation with this turn
    user_text: str
    generation_id: str
    assistant_message_id: str
    model: str
    max_tokens: int
    user_message_id: str | None = None  # the id the UI already shows for the user turn
    # Versions: this turn is a new version of the stored user message `version_of`, kept
    # beside it: with `regenerate`, a new reply to it; else an edit (`user_text` beside it).
    version_of: str | None = None
    regenerate: bool = False
    new_conversation_settings: dict[str, object] = dataclasses.field(default_factory=dict)
    # The owner's limits (`limits_for(user)`); by default the server's (AI_CHAT_LIMIT_*).
    limits: UserLimits = dataclasses.field(default_factory=UserLimits.defaults)
    # The user's unsent uploads sent with this message (checked and linked at turn start).
    attachment_ids: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class TurnStarted:
    """The user turn is stored; the reply is about to be requested."""

    conversation_id: str
    user_message: MessageRow
    created_conversation: bool
    title: str = ""
    history: tuple[Turn, ...] = ()  # stored turns before this one (sent to Claude)
    conversation: Conversation | None = None  # its settings shape the request
    # This message's files, with their bytes (for the request only: never sent to a tab).
    files: tuple[TurnFile, ...] = ()


@dataclasses.dataclass(frozen=True)
class TurnFinished:
    """The assistant turn has ended and (unless `save_error` or `save_pending`) is stored."""

    message: MessageRow
    save_error: str | None = None  # shown to the user when the turn could not be stored
    user_turn_saved: bool = True  # False: nothing reached the DB or Claude
    user_text: str = ""
    conversation_deleted: bool = False  # e.g. from another tab: nothing left to save into
    error_kind: str | None = None  # the ReplyError's kind (ops: the turn log and metrics)
    # The database refused it: it is retried (AI_CHAT_SAVE_RETRY_S), then ReplySaved says.
    save_pending: bool = False


@dataclasses.dataclass(frozen=True)
class ReplySaved:
    """After `TurnFinished(save_pending=True)`: the reply was stored at last, or not."""

    message_id: str
    saved: bool
    error: str | None = None  # shown to the user when it could not be stored


Update = TurnStarted | LiveSnapshot | TurnFinished | ReplySaved
