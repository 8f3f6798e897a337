"""The conversation list: its own state, so list changes never touch the chat's pushes."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.auth import identity
from ai_chat.auth.identity import Identity
from ai_chat.generation import runtime, titles
from ai_chat.state import payloads
from ai_chat.state._reflex_seam import plain_list
from ai_chat.state.auth import session_cookie, signed_in, to_signin
from ai_chat.state.chat import ChatState
from ai_chat.state.shared import Events, event_of
from ai_chat.store import conversation_list
from ai_chat.store.conversations import ConversationNotFound
from ai_chat.store.db import read_scope, session_scope

PAGE_SIZE = 50
UNTITLED = "Untitled"


@dataclasses.dataclass
class ConversationItem:
    id: str
    title: str


class SidebarState(rx.State):
    items: rx.Field[list[ConversationItem]] = rx.field(default_factory=list)
    query: rx.Field[str] = rx.field("")
    has_more: rx.Field[bool] = rx.field(False)
    rename_id: rx.Field[str] = rx.field("")
    rename_title: rx.Field[str] = rx.field("")
    delete_id: rx.Field[str] = rx.field("")
    delete_title: rx.Field[str] = rx.field("")
    mobile_open: rx.Field[bool] = rx.field(False)  # narrow screens: the list slides over the chat
    # The conversation this tab's turn just created: (id, first message, provisional title),
    # until its first reply ends (state/reply_ending.py starts its title job then).
    _first_turn: tuple[str, str, str] | tuple[()] = ()

    @rx.event
    def toggle_mobile(self) -> None:
        self.mobile_open = not self.mobile_open

    async def _page(self, owner: str, offset: int) -> list[ConversationItem]:
        async with read_scope() as session:
            rows = await conversation_list.list_conversations(
                session, owner, self.query, limit=PAGE_SIZE + 1, offset=offset
            )
        self.has_more = len(rows) > PAGE_SIZE
        return [ConversationItem(r.id, r.title or UNTITLED) for r in rows[:PAGE_SIZE]]

    @rx.event
    async def refresh(self) -> Events:
        self.mobile_open = False  # runs on every page load: a chosen conversation closes it
        return await self._reload()

    async def _reload(self) -> Events:
        """The list's first page again (a search keeps the narrow list open)."""
        if (who := await signed_in(self)) is None:
            self.items, self.has_more = [], False
            return None
        try:
            self.items = await self._page(who.user_id, 0)
        except Exception:  # noqa: BLE001 - the chat must work even if the list can't load
            return rx.toast.error("Could not load your conversations.")
        return None

    def _bring_to_top(self, conversation_id: str, title: str) -> bool:
        """A turn just ended in this conversation: list it first, titled `title`, as a
        refresh would. Done in place, without reading the database: a list query per tab at
        every turn's end would be the worker's busiest moment. False when only a refresh can
        tell (a search is active, or the title isn't known)."""
        if self.query.strip() or not title:
            return False
        # The list as stored: read through Reflex's proxy, every item would be wrapped in a
        # proxy of its own, at every turn's end. Only read here; replaced below if changed.
        current = plain_list(self.items)
        first = ConversationItem(conversation_id, title)
        if current and current[0] == first:  # already first: nothing changes or is pushed
            return True
        items = [first, *(item for item in current if item.id != conversation_id)]
        keep = max(PAGE_SIZE, len(current))  # pages loaded with "more" stay loaded
        if len(items) > keep:
            items, self.has_more = items[:keep], True
        self.items = items
        return True

    @rx.event(background=True)
    async def follow_title(self, conversation_id: str | None = None) -> AsyncIterator[EventSpec]:
        """Started by the end of a new conversation's first reply: when its title job (in
        this worker) has stored Claude's title, the list and the open chat show it."""
        if (checked := payloads.entity_id(conversation_id)) is None:
            yield payloads.malformed()
            return
        async with self:
            cookie = session_cookie(self)
        if (who := await identity.resolve(cookie)) is None:  # the session lookup: unlocked
            return
        title = await titles.wait(who.user_id, checked)  # "" unless this user's, here
        if not title:
            return
        async with self:
            self._retitle(checked, title)
            chat = await self.get_state(ChatState)
            if chat.conversation_id == checked:
                chat.title = title

    def _retitle(self, conversation_id: str, title: str) -> None:
        """The listed conversation shows `title` (no list query)."""
        current = plain_list(self.items)
        if any(item.id == conversation_id and item.title != title for item in current):
            self.items = [
                ConversationItem(i.id, title) if i.id == conversation_id else i for i in current
            ]

    @rx.event
    async def search(self, query: str | None = None) -> Events:
        if (checked := payloads.text(query, 10_000)) is None:
            return payloads.malformed()
        self.query = checked[:200]
        return await self._reload()

    @rx.event
    async def load_more(self) -> Events:
        if (who := await signed_in(self)) is None:
            return to_signin()
        self.items = self.items + await self._page(who.user_id, len(self.items))
        return None

    @rx.event
    def open_rename(self, conversation_id: str | None = None, title: str | None = None) -> Events:
        checked_id = payloads.entity_id(conversation_id)
        if checked_id is None or not isinstance(title, str) or payloads.text(title, 1000) is None:
            return payloads.malformed()
        self.rename_id, self.rename_title = checked_id, title
        return None

    @rx.event
    def close_dialogs(self) -> None:
        self.rename_id = self.delete_id = ""

    @rx.event
    async def save_rename(self, form_data: dict[str, Any] | None = None) -> Events:
        form = payloads.form(form_data)
        title = form.get("title", "") if form is not None else None
        if not isinstance(title, str) or len(title) > 10_000:
            return payloads.malformed()
        if (who := await signed_in(self)) is None:
            return to_signin()
        try:
            async with session_scope() as session:
                renamed = await conversation_list.rename_conversation(
                    session, who.user_id, self.rename_id, title
                )
        except ConversationNotFound:
            return rx.toast.error("That conversation no longer exists.")
        except ValueError as exc:
            return rx.toast.error(str(exc))
        self.items = [
            ConversationItem(i.id, renamed.title) if i.id == renamed.id else i for i in self.items
        ]
        self.rename_id = ""
        chat = await self.get_state(ChatState)
        if chat.conversation_id == renamed.id:
            chat.title = renamed.title
        return None

    @rx.event
    def open_delete(self, conversation_id: str | None = None, title: str | None = None) -> Events:
        checked_id = payloads.entity_id(conversation_id)
        if checked_id is None or not isinstance(title, str) or payloads.text(title, 1000) is None:
            return payloads.malformed()
        self.delete_id, self.delete_title = checked_id, title
        return None

    def _take_delete(self) -> str:
        """The conversation the delete dialog confirmed, taken (the dialog closes)."""
        doomed, self.delete_id = self.delete_id, ""
        return doomed

    async def _delete(self, who: Identity, doomed: str) -> Events:
        """Deletes `doomed` (confirmed in the dialog; `LiveState.confirm_delete` first stops
        this tab's own reply there), and other tabs' replies in it."""
        try:
            async with session_scope() as session:
                await conversation_list.delete_conversation(session, who.user_id, doomed)
            # And other tabs' replies there, on any worker. Stopped once the deletion is
            # committed, so that their save finds nothing and their tabs are told why
            # (stopped first, a reply could be saved just before the deletion took it away
            # unannounced). Only after this user's own deletion: a foreign id stops nothing.
            await runtime.get_service().cancellation.stop_conversation(doomed)
        except ConversationNotFound:
            pass  # already gone: the list refresh below shows the truth
        self.items = [i for i in self.items if i.id != doomed]
        chat = await self.get_state(ChatState)
        events = [rx.toast.success("Conversation deleted.")]
        if chat.conversation_id == doomed:  # deleting the open one moves you to a new chat
            events.append(event_of(ChatState.new_chat))
        return events
