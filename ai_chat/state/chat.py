"""The conversation a tab shows: history owned by the server, loaded from the DB by route."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import reflex as rx

from ai_chat.auth.identity import Identity
from ai_chat.config import get_settings
from ai_chat.llm.catalog import model_info
from ai_chat.state import payloads
from ai_chat.state.auth import signed_in, to_signin
from ai_chat.state.views import ChatMessage, format_cost, mark_unanswered, to_views
from ai_chat.store import conversations as store
from ai_chat.store import export
from ai_chat.store.db import read_scope
from ai_chat.store.models import new_id
from ai_chat.store.text import clean_text

COMPOSER_ID = "message"
CONTINUE_PROMPT = "Please continue where you stopped."
# New turns are kept apart from the loaded history so that a turn resends only them; past
# `fold_limit` of them they are folded into the history (one full resend).
MIN_FOLD_MESSAGES = 8


class ChatState(rx.State):
    conversation_id: str = ""
    title: str = ""
    # The conversation as loaded, then this tab's turns since: assigning or appending to a
    # var resends it whole, and with hundreds of prior turns the history is megabytes.
    messages: list[ChatMessage] = []
    new_messages: list[ChatMessage] = []
    load_error: str = ""
    editing_id: str = ""  # a user message being edited in the composer
    model_label: str = ""  # the open conversation's model (its settings, else the default)

    @rx.var
    def simulator(self) -> bool:
        return get_settings().use_simulator

    @rx.var
    def _history_cost(self) -> tuple[float, bool]:
        """The loaded history's part of `total_cost`: recomputed only when the history is
        loaded or folded. Summed with each turn, it cost a pass over every message (each
        wrapped for change tracking): ~20 % of a turn's CPU in a 500-turn chat."""
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
    async def load_route(self):
        """on_load: `/` is a fresh chat; `/c/<id>` restores that conversation from the DB,
        with its reply in flight shown live (this tab's, or another's through a watcher)."""
        from ai_chat.state import loading
        from ai_chat.state.live import LiveState

        who = await signed_in(self)
        if who is None:
            self._reset_conversation()
            return None  # AuthState.guard, first in on_load, sends the tab to sign in
        query = self.router_data.get("query") or {}
        # One route serves `/` and `/c/<id>` (`/[[c]]/[[cid]]`): anything else is unknown.
        if str(query.get("c", "") or "") not in ("", "c"):
            self._reset_conversation()
            return [rx.redirect("/"), rx.toast.error("That page does not exist.")]
        cid = str(query.get("cid", "") or "")
        live = await self.get_state(LiveState)
        live._owner_id = who.user_id
        if not cid:
            return await loading.load_new_chat(self, live)
        try:
            own_gone = await loading.own_reply_gone(live)
            conversation, rows, lost = await loading.load(who.user_id, cid, live)
        except Exception as exc:  # noqa: BLE001 - the page must still render
            self.load_error = f"Could not load this conversation: {type(exc).__name__}"
            return rx.toast.error(self.load_error)
        if conversation is None:
            self._reset_conversation()
            return [rx.redirect("/"), rx.toast.error("That conversation does not exist.")]
        self.conversation_id, self.title, self.load_error = cid, conversation.title, ""
        self.model_label = model_label(conversation.model or get_settings().model)
        # This tab's own reply, recovered by a sweep before this load: lost all the same.
        own_lost = own_gone and any(
            r.id == live.live_message_id and r.status == "interrupted" for r in rows
        )
        return loading.show_loaded(self, live, rows, lost or own_lost, own_gone)

    @rx.event
    async def export(self, fmt: str | None = None):
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
                rows = await store.list_messages(session, who.user_id, self.conversation_id)
        except store.ConversationNotFound:
            return rx.toast.error("That conversation no longer exists.")
        if fmt == "json":
            data, suffix = export.to_json(conversation, rows), "json"
        else:
            data, suffix = export.to_markdown(conversation, rows), "md"
        return rx.download(data=data, filename=f"conversation-{self.conversation_id[:8]}.{suffix}")

    @rx.event
    def new_chat(self):
        self._reset_conversation()
        return rx.redirect("/")

    def _reset_conversation(self) -> None:
        self.conversation_id, self.title, self.load_error, self.editing_id = "", "", "", ""
        self.model_label = ""
        self.messages, self.new_messages = [], []

    def _assign(self, **values: Any) -> None:
        """Sets the vars whose value changes. Reflex resends every var assigned (with the
        computed vars depending on it), changed or not."""
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _shown_messages(self) -> list[ChatMessage]:
        """Every stored turn the tab shows, oldest first."""
        return [*self.messages, *self.new_messages]

    def _shows_recent(self, message_id: str, within: int = 8) -> bool:
        """Whether `message_id` is among the newest `within` turns shown: no pass over the
        history (each item read through a list var is wrapped for change tracking)."""
        recent = self.new_messages[-within:]
        if len(recent) < within:
            recent = [*self.messages[len(recent) - within :], *recent]
        return any(m.id == message_id for m in recent)

    def _sync_rows(self, rows, exclude_id: str) -> None:
        """Show the stored `rows` (but `exclude_id`, shown live): appended when the tab
        shows a prefix of them (a push of the new turns only), else the history replaced."""
        views = to_views(rows, exclude_id=exclude_id)
        shown = self._shown_messages()
        if [m.id for m in shown] != [v.id for v in views[: len(shown)]]:
            self.messages, self.new_messages = views, []
            return
        start = max(0, len(shown) - 2)  # the newest shown may have changed (status, text)
        for old, new in zip(shown[start:], views[start : len(shown)], strict=True):
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

    def _reply_saved(self, saved) -> Any:
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

    def _truncate_from(self, message_id: str) -> bool:
        """Drop this message and every later one; False if it isn't shown."""
        for name in ("new_messages", "messages"):
            shown: list[ChatMessage] = getattr(self, name)
            index = next((i for i, m in enumerate(shown) if m.id == message_id), None)
            if index is not None:
                setattr(self, name, shown[:index])
                if name == "messages":
                    self.new_messages = []
                return True
        return False

    @rx.event
    async def send(self, form_data: dict | None = None):
        """Enter or the Send button. Ordinary event: runs one at a time per tab, so a
        double click finds the first turn already running and does nothing."""
        form = payloads.form(form_data)
        text = form.get(COMPOSER_ID, "") if form is not None else None
        if not isinstance(text, str):
            return payloads.malformed()
        if not text.strip():
            return None
        limit = get_settings().max_message_chars
        if len(text) > limit:
            return rx.toast.error(
                f"Your message is {len(text):,} characters; the limit is {limit:,}. "
                "Shorten it and send again (your text is still in the box)."
            )
        if (who := await signed_in(self)) is None:
            return to_signin()
        # Editing replaces that message and everything after it.
        return await self._start_turn(who, text, replace_from=self.editing_id or None)

    @rx.event
    async def regenerate(self):
        """A new reply to the last user message; the old reply is replaced (also Retry)."""
        if (who := await signed_in(self)) is None:
            return to_signin()
        last_user = next((m for m in reversed(self._shown_messages()) if m.role == "user"), None)
        if last_user is None:
            return None
        return await self._start_turn(
            who, last_user.content, replace_from=last_user.id, reuse_id=last_user.id
        )

    @rx.event
    async def continue_reply(self):
        """After a stopped reply: ask Claude to pick up where it stopped (a visible new turn,
        which every model supports, rather than a prefill some models reject)."""
        if (who := await signed_in(self)) is None:
            return to_signin()
        return await self._start_turn(who, CONTINUE_PROMPT, replace_from=None)

    @rx.event
    def start_edit(self, message_id: str | None = None):
        if payloads.entity_id(message_id) is None:
            return payloads.malformed()
        message = next((m for m in self._shown_messages() if m.id == message_id), None)
        if message is None or message.role != "user":
            return None
        self.editing_id = message_id
        return [rx.set_value(COMPOSER_ID, message.content), rx.set_focus(COMPOSER_ID)]

    @rx.event
    def cancel_edit(self):
        self.editing_id = ""
        return rx.set_value(COMPOSER_ID, "")

    async def _start_turn(
        self, who: Identity, text: str, replace_from: str | None, reuse_id: str = ""
    ):
        from ai_chat.state.live import LiveState

        live = await self.get_state(LiveState)
        if live.watching and live.live_conversation_id == self.conversation_id:
            # Another tab's reply streams here: one reply at a time per conversation.
            return rx.toast.info(
                "A reply is still streaming in this conversation (sent from another tab or "
                "device). Wait for it or press Stop; your text is still in the box."
            )
        if live.watching:  # a reply of another conversation, no longer shown
            from ai_chat.state import watch_view

            watch_view.unwatch(live)
        if live.generating:
            if live.stopping and not replace_from:  # "send right after stop": sent next
                live._queued_text = text
                return rx.set_value(COMPOSER_ID, "")
            if text == live._user_text and not replace_from:
                return None  # the same Enter twice before the box was cleared: sent once
            if live.live_conversation_id != self.conversation_id:
                return rx.toast.info(
                    "A reply is still streaming in another conversation. "
                    "Wait for it or stop it there; your text is still in the box."
                )
            # Enter pressed again while this turn starts or streams: said, not dropped.
            return rx.toast.info(
                "Claude is still replying. Wait for it or press Stop; "
                "your text is still in the box."
            )
        text = clean_text(text)  # lone surrogates and NUL: as stored, so as Claude gets it
        if replace_from and not self._truncate_from(replace_from):
            self.editing_id = ""
            return rx.toast.error("That message is no longer in this conversation.")
        user_message_id = reuse_id or new_id()
        self._add_message(ChatMessage(id=user_message_id, role="user", content=text))
        live._begin(who, self.conversation_id, text, user_message_id, replace_from or "")
        if not self.conversation_id:  # settings chosen before the first message
            from ai_chat.state.settings import SettingsState

            live._new_settings = (await self.get_state(SettingsState))._take_pending()
        clear_composer = not reuse_id  # regenerate leaves whatever the user is typing
        self._assign(editing_id="")
        events = [LiveState.generate]
        return [rx.set_value(COMPOSER_ID, ""), *events] if clear_composer else events


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


def model_label(model_id: str) -> str:
    info = model_info(model_id)
    return info.label if info else model_id
