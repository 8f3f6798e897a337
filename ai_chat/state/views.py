"""What the browser sees of a stored message: public fields only."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from ai_chat.config import get_settings
from ai_chat.llm.catalog import Usage, cost_usd
from ai_chat.llm.history import Turn, unanswered
from ai_chat.state.attachments import AttachmentView
from ai_chat.state.markdown_depth import too_deep
from ai_chat.store.conversations import as_utc
from ai_chat.store.models import Message, MessageRow


@dataclasses.dataclass
class ChatMessage:
    id: str
    role: str
    content: str
    status: str = "complete"
    error: str = ""
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    output_estimated: bool = False
    duration_s: float = 0.0
    thinking: str = ""
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0  # 0 when unknown (no usage, a model without a price, simulated)
    cost_label: str = ""
    # A reply nested too deeply for the Markdown renderer (state/markdown_depth.py):
    # shown as plain text, so the conversation still opens.
    too_deep: bool = False
    # A user turn with no reply text after it: shown as "No reply", left out of what is
    # sent to Claude (llm/history.py).
    unanswered: bool = False
    # The reply ended but the database refused it: it is retried ("Not saved yet").
    save_pending: bool = False
    # A user turn's files (ids, names, sizes, URLs: never their bytes).
    attachments: list[AttachmentView] = dataclasses.field(default_factory=list)


def to_view(message: Message | MessageRow) -> ChatMessage:
    created, completed = as_utc(message.created_at), as_utc(message.completed_at)
    duration = (completed - created).total_seconds() if created and completed else 0.0
    return ChatMessage(
        id=message.id,
        role=message.role,
        content=message.content,
        status=message.status,
        error=message.error or "",
        model=message.model or "",
        input_tokens=message.input_tokens or 0,
        output_tokens=message.output_tokens or 0,
        output_estimated=message.output_tokens_estimated,
        duration_s=round(max(0.0, duration), 1),
        thinking=message.thinking or "",
        cache_read_tokens=message.cache_read_input_tokens or 0,
        cache_write_tokens=message.cache_creation_input_tokens or 0,
        cost_usd=(cost := 0.0 if priceless() else _cost(message)),
        cost_label=format_cost(cost),
        # Only replies render as Markdown (a user's text is shown as typed).
        too_deep=message.role == "assistant" and too_deep(message.content),
    )


IN_FLIGHT = ("thinking", "streaming")


def to_views(
    rows: Sequence[Message | MessageRow],
    exclude_id: str = "",
    files: Mapping[str, list[AttachmentView]] | None = None,
) -> list[ChatMessage]:
    """Stored turns as shown (but `exclude_id`, the reply shown live), unanswered user
    turns marked; `files`: the messages' attachments by message id."""
    views = [to_view(row) for row in rows]
    for view in views:
        if files and view.id in files:
            view.attachments = list(files[view.id])
    mark_unanswered(views)
    return [view for view in views if view.id != exclude_id]


def mark_unanswered(views: Sequence[ChatMessage]) -> None:
    """A reply still in flight counts as an answer (it is being written)."""
    turns = [
        Turn(v.role, v.content or ("…" if v.status in IN_FLIGHT else ""), v.status) for v in views
    ]
    for view, flag in zip(views, unanswered(turns), strict=True):
        if view.unanswered != flag:
            view.unanswered = flag


def priceless() -> bool:
    """Replies come from the built-in simulator (no API key): they cost nothing, so no
    dollar amount is shown for them, per reply or for the conversation (`ChatState.total_cost`
    sums `cost_usd`). An explicit ANTHROPIC_BASE_URL counts as priced: it may be a gateway
    to Claude, and the app can't tell (a standalone simulator there is a test setup)."""
    return get_settings().use_simulator


def format_cost(usd: float) -> str:
    if not usd or priceless():
        return ""
    return "<$0.0001" if usd < 0.0001 else f"${usd:.4f}"


def _cost(message: Message | MessageRow) -> float:
    usage = Usage(
        input_tokens=message.input_tokens or 0,
        output_tokens=message.output_tokens or 0,
        cache_creation_input_tokens=message.cache_creation_input_tokens or 0,
        cache_read_input_tokens=message.cache_read_input_tokens or 0,
    )
    return cost_usd(message.model or "", usage) or 0.0
