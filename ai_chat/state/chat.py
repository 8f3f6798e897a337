"""The conversation a tab shows: history owned by the server, loaded from the DB by route.

The turn's handlers (send, regenerate, continue, load) are on `LiveState` (state/live.py),
the substate that owns the reply in flight; this state holds the history they change."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.config import get_settings
from ai_chat.generation.job import ReplySaved
from ai_chat.state import payloads
from ai_chat.state.attachments import AttachmentView
from ai_chat.state.auth import signed_in, to_signin
from ai_chat.state.shared import Events, model_label
from ai_chat.state.views import ChatMessage, format_cost, mark_unanswered, to_views
from ai_chat.store import attachments, branches, export
from ai_chat.store import conversations as store
from ai_chat.store.db import read_scope, run_sync
from ai_chat.store.models import Message

# New turns are kept apart from the loaded history so that a turn resends only them; past
# `fold_limit` of them they are folded into the history (one full resend).
MIN_FOLD_MESSAGES = 8


class ChatState(rx.State):
    conversation_id: rx.Field[str] = rx.field("")
    title: rx.Field[str] = rx.field("")
    # The conversation as loaded, then this tab's turns since: assigning or appending to a
    # var resends it whole, and with hundreds of prior turns the history is megabytes.
    messages: rx.Field[list[ChatMessage]] = rx.field(default_factory=list)
    new_messages: rx.Field[list[ChatMessage]] = rx.field(default_factory=list)
    load_error: rx.Field[str] = rx.field("")
    editing_id: rx.Field[str] = rx.field("")  # a user message being edited (in place)
    # Shown messages that have other versions: id -> [n, m] (version n of m). Apart from the
    # messages so a conversation without versions sends nothing more.
    versions: rx.Field[dict[str, list[int]]] = rx.field(default_factory=dict)
    # The open conversation's model (its settings, else the default)
    model_label: rx.Field[str] = rx.field("")

    @rx.var
    def simulator(self) -> bool:
        return get_settings().use_simulator

    @rx.var
    def _history_cost(self) -> tuple[float, bool]:
        """The loaded history's part of `total_cost`: recomputed only when the history is
        loaded or folded, so a turn doesn't pass over every message of a long chat (each
        wrapped for change tracking on the way out)."""
        return _cost_of(self.messages)

    @rx.var
    def total_cost(self) -> str:
        """This conversation's estimated cost so far (recomputed per turn, not per token)."""
        history_usd, history_estimated = self._history_cost
        new_usd, new_estimated = _cost_of(self.new_messages)
        total, estimated = history_usd + new_usd, history_estimated or new_estimated
        label = format_cost(total)  # "" when the replies were simulated: no price
        return f"{'≈' if estimated else ''}{label}" if label else ""

    @rx.var
    def model(self) -> str:
        return self.model_label or model_label(get_settings().model)

    @rx.event
    async def export(self, fmt: str | None = None) -> Events:
        """Download the open conversation as Markdown (`md`) or JSON (`json`)."""
        if fmt not in ("md", "json"):
            return payloads.malformed()
        if (who := await signed_in(self)) is None:
            return to_signin()
        if not self.conversation_id:
            return rx.toast.info("Nothing to export yet.")
        try:
            async with read_scope() as session:
                conversation = await store.require_conversation(
                    session, who.user_id, self.conversation_id
                )
                rows = await branches.active_path(session, who.user_id, self.conversation_id)
                files = await run_sync(
                    session, attachments.for_messages_sync, who.user_id, [m.id for m in rows]
                )
        except store.ConversationNotFound:
            return rx.toast.error("That conversation no longer exists.")
        if fmt == "json":
            data, suffix = export.to_json(conversation, rows, files), "json"
        else:
            data, suffix = export.to_markdown(conversation, rows, files), "md"
        return rx.download(data=data, filename=f"conversation-{self.conversation_id[:8]}.{suffix}")

    @rx.event
    def new_chat(self) -> Events:
        self._reset_conversation()
        return rx.redirect("/")

    def _reset_conversation(self) -> None:
        self.conversation_id, self.title, self.load_error, self.editing_id = "", "", "", ""
        self.model_label = ""
        self.messages, self.new_messages = [], []
        self._assign(versions={})

    def _assign(self, **values: Any) -> None:
        """Sets the vars whose value changes. Reflex resends every var assigned (with the
        computed vars depending on it), changed or not."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _shown_messages(self) -> list[ChatMessage]:
        """Every stored turn the tab shows, oldest first."""
        return [*self.messages, *self.new_messages]

    def _shows(self, message_id: str) -> bool:
        return any(m.id == message_id for m in self._shown_messages())

    def _shows_recent(self, message_id: str, within: int = 8) -> bool:
        """Whether `message_id` is among the newest `within` turns shown: no pass over the
        history (each item read through a list var is wrapped for change tracking)."""
        recent = self.new_messages[-within:]
        if len(recent) < within:
            recent = [*self.messages[len(recent) - within :], *recent]
        return any(m.id == message_id for m in recent)

    def _sync_rows(
        self,
        rows: Sequence[Message],
        exclude_id: str,
        files: Mapping[str, list[AttachmentView]] | None = None,
    ) -> None:
        """Show the stored `rows` (but `exclude_id`, shown live): appended when the tab
        shows a prefix of them (a push of the new turns only), else the history replaced.
        `files`: the user turns' attachments, when read with the rows."""
        views = to_views(rows, exclude_id=exclude_id, files=files)
        if isinstance(rows, branches.Path):  # the rows of the branch shown: its versions
            self._show_versions(rows)
        shown = self._shown_messages()
        if [m.id for m in shown] != [v.id for v in views[: len(shown)]]:
            # Another branch (a version chosen elsewhere): the files of messages still shown.
            known = {m.id: m.attachments for m in shown if m.attachments}
            for view in views:
                view.attachments = view.attachments or list(known.get(view.id, []))
            self.messages, self.new_messages = views, []
            return
        start = max(0, len(shown) - 2)  # the newest shown may have changed (status, text)
        for old, new in zip(shown[start:], views[start : len(shown)], strict=True):
            new.attachments = new.attachments or list(old.attachments)  # rows carry no files
            if old != new:
                self._replace_recent(new)
        for view in views[len(shown) :]:
            self._add_message(view)

    def _replace_recent(self, message: ChatMessage, within: int = 8) -> bool:
        """Replace the shown turn with `message`'s id among the newest; False if absent."""
        for name in ("new_messages", "messages"):
            shown: list[ChatMessage] = getattr(self, name)
            for index in range(len(shown) - 1, max(-1, len(shown) - 1 - within), -1):
                if shown[index].id == message.id:
                    if shown[index] != message:
                        shown[index] = message
                    return True
        return False

    def _mark_recent_unanswered(self) -> None:
        """The newest turns' "No reply" marks, after a reply ended (an empty one leaves its
        question unanswered)."""
        recent = self.new_messages[-3:]
        if len(recent) >= 2:
            before = [dataclasses.replace(m) for m in recent]
            mark_unanswered(before)
            for message, marked in zip(recent, before, strict=True):
                if message.unanswered != marked.unanswered:
                    self._replace_recent(marked)

    def _reply_saved(self, saved: ReplySaved) -> EventSpec | None:
        """A reply that could not be stored at its end was stored at last, or given up."""
        view = next((m for m in reversed(self.new_messages) if m.id == saved.message_id), None)
        if view is not None:
            updated = dataclasses.replace(view, save_pending=False)
            if not saved.saved:
                updated.error = saved.error or "This reply could not be saved."
            self._replace_recent(updated)
        if saved.saved:
            return None
        return rx.toast.error(saved.error or "This reply could not be saved.")

    def _add_message(self, message: ChatMessage) -> None:
        if len(self.new_messages) >= fold_limit(len(self.messages)):
            self.messages, self.new_messages = self._shown_messages(), []
        self.new_messages.append(message)

    def _truncate_from(self, message_id: str, keep: bool = False) -> bool:
        """Stop showing this message (but with `keep`) and every later one: they stay
        stored, on their branch. False if it isn't shown."""
        for name in ("new_messages", "messages"):
            shown: list[ChatMessage] = getattr(self, name)
            index = next((i for i, m in enumerate(shown) if m.id == message_id), None)
            if index is not None:
                kept = shown[: index + 1 if keep else index]
                if keep and kept[-1].unanswered:  # a reply to it is on its way
                    kept[-1] = dataclasses.replace(kept[-1], unanswered=False)
                setattr(self, name, kept)
                if name == "messages":
                    self.new_messages = []
                return True
        return False

    def _show_versions(self, path: branches.Path) -> None:
        self._assign(versions={k: list(v) for k, v in path.versions.items()})

    def _add_version(self, message_id: str, version: tuple[int, int] | None) -> None:
        """A new version shown (an edit's message, a regenerated reply)."""
        if version is not None and version[1] > 1:
            self.versions = {**self.versions, message_id: list(version)}  # assigned: pushed

    @rx.event
    def start_edit(self, message_id: str | None = None) -> Events:
        """The user message becomes an editable box where it is (Save: `LiveState.save_edit`)."""
        if (checked_id := payloads.entity_id(message_id)) is None:
            return payloads.malformed()
        message = next((m for m in self._shown_messages() if m.id == checked_id), None)
        if message is None or message.role != "user":
            return None
        self.editing_id = checked_id
        return None

    @rx.event
    def cancel_edit(self) -> Events:
        self._assign(editing_id="")
        return None


def _cost_of(messages: list[ChatMessage]) -> tuple[float, bool]:
    """Total cost of `messages`, and whether any costed one is an estimate."""
    total, estimated = 0.0, False
    for message in messages:
        total += message.cost_usd
        estimated = estimated or bool(message.output_estimated and message.cost_usd)
    return total, estimated


def fold_limit(history: int) -> int:
    """How many new messages to keep apart before folding them into a history of `history`.
    Each append resends the new ones (F/2 on average) and each fold the history (H every F
    appends): F = √(2H) makes that sum smallest, so short chats fold often, long ones rarely."""
    return max(MIN_FOLD_MESSAGES, math.ceil(math.sqrt(2 * history)))
