"""The in-flight reply of a tab: a small substate, so a push never resends the history.

`LiveState` owns the reply, so it has the turn's handlers: the route's load (which shows
a reply in flight), send, regenerate, continue, stop, a conversation's deletion (which
stops this tab's reply there first), and the background tasks (`generate`, the watchers).
Its vars and the changes to them are `LiveVars` (state/live_vars.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.auth.identity import Identity
from ai_chat.generation import runtime
from ai_chat.generation.job import ReplySaved, TurnFinished, TurnStarted
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.state import loading, payloads, reply_ending, sending, versions
from ai_chat.state import watch as watchers
from ai_chat.state import watch_view as view
from ai_chat.state._reflex_seam import unproxied
from ai_chat.state.attachments import AttachmentsState, give_back_files
from ai_chat.state.auth import signed_in, to_signin
from ai_chat.state.chat import ChatState
from ai_chat.state.live_vars import LiveVars
from ai_chat.state.shared import COMPOSER_ID, CONTINUE_PROMPT, Events, event_of
from ai_chat.state.sidebar import SidebarState

log = logging.getLogger(__name__)


class LiveState(LiveVars, ChatState):
    @rx.var
    def shows_live(self) -> bool:
        busy = self.generating or self.watching
        return busy and self.live_conversation_id == self.conversation_id

    @rx.event
    async def load_route(self) -> Events:
        """on_load: `/` is a fresh chat; `/c/<id>` restores that conversation from the DB,
        with its reply in flight shown live (this tab's, or another's through a watcher)."""
        who = await signed_in(self)
        tray = await self.get_state(AttachmentsState)
        tray._for_user(who.user_id if who is not None else "")
        if who is None:
            self._chat()._reset_conversation()
            return None  # AuthState.guard, first in on_load, sends the tab to sign in
        self._owner_id = who.user_id
        watch, told = await loading.open_route(self, who.user_id)
        return [event_of(LiveState.watch), *told] if watch else told

    @rx.event
    async def send(self, form_data: dict[str, Any] | None = None) -> Events:
        """Enter or the Send button. Ordinary event: runs one at a time per tab, so a
        double click finds the first turn already running and does nothing."""
        text = sending.composer_text(form_data, allow_empty=True)
        if not isinstance(text, str):
            return text  # malformed or too long (said)
        if not text.strip() and not (await self.get_state(AttachmentsState)).pending:
            return None  # nothing to send: files alone are a message, like claude.ai's
        if (who := await signed_in(self)) is None:
            return to_signin()
        return await self._start_turn(who, text, replace_from=None, with_files=True)

    @rx.event
    async def save_edit(self, form_data: dict[str, Any] | None = None) -> Events:
        """The edit box's Save: the edited text becomes a new version of the message being
        edited, with a new reply; the old one and its turns stay, one ‹ › away."""
        if (text := versions.edit_text(form_data)) is None:
            return payloads.malformed()
        chat = self._chat()
        editing = next((m for m in chat._shown_messages() if m.id == chat.editing_id), None)
        if editing is None or editing.role != "user":
            chat._assign(editing_id="")
            return rx.toast.info("That message is no longer shown here; nothing was changed.")
        if (refused := versions.refuse_edit(text, has_files=bool(editing.attachments))) is not None:
            return refused  # empty or too long (said; the box keeps the text)
        if (who := await signed_in(self)) is None:
            return to_signin()
        return await self._start_turn(who, text, replace_from=editing.id)

    @rx.event
    async def switch_version(
        self, message_id: str | None = None, direction: int | None = None
    ) -> Events:
        """‹ › on a message: its previous (-1) or next (+1) version and that branch."""
        return await versions.switch(self, message_id, direction)

    @rx.event
    async def regenerate(self) -> Events:
        """A new reply to the last user message, beside the old one (also Retry)."""
        if (who := await signed_in(self)) is None:
            return to_signin()
        shown = self._chat()._shown_messages()
        last_user = next((m for m in reversed(shown) if m.role == "user"), None)
        if last_user is None:
            return None
        return await self._start_turn(
            who, last_user.content, replace_from=last_user.id, reuse_id=last_user.id
        )

    @rx.event
    async def continue_reply(self) -> Events:
        """After a stopped reply: ask Claude to pick up where it stopped (a visible new turn,
        which every model supports, rather than a prefill some models reject)."""
        if (who := await signed_in(self)) is None:
            return to_signin()
        return await self._start_turn(who, CONTINUE_PROMPT, replace_from=None)

    async def _start_turn(
        self,
        who: Identity,
        text: str,
        replace_from: str | None,
        reuse_id: str = "",
        with_files: bool = False,
    ) -> Events:
        begun, told = await sending.begin_turn(self, who, text, replace_from, reuse_id, with_files)
        if not begun:
            return told
        generate = event_of(LiveState.generate)
        if reuse_id or replace_from:  # regenerate and edit leave whatever the user is typing
            return [generate]
        return [rx.set_value(COMPOSER_ID, ""), generate]

    @rx.event
    async def stop(self) -> Events:
        """Stop button / Esc: this tab's reply or another tab's shown here, on any worker.
        Cancels the task that holds the Claude stream (closes it now); `settle_stop` makes
        sure the tab ends in a terminal state even if nobody answers."""
        if await self._stop_generation():
            return event_of(LiveState.settle_stop)
        return None

    @rx.event
    async def confirm_delete(self) -> Events:
        """The delete dialog's Delete: the conversation, and its replies in flight."""
        sidebar = await self.get_state(SidebarState)
        doomed = sidebar._take_delete()
        if (who := await signed_in(self)) is None:
            return to_signin()
        if self.generating and self.live_conversation_id == doomed:
            await self._stop_generation()  # nothing left to save the reply into
        return await sidebar._delete(who, doomed)

    @rx.event(background=True)
    async def settle_stop(self) -> AsyncIterator[EventSpec]:
        async for event in watchers.settle_stop(self, _send_next):
            yield event

    @rx.event(background=True)
    async def watch(self) -> AsyncIterator[EventSpec]:
        """This tab's watcher (state/watch.py): runs only one that the server set up."""
        async with self:
            plan = view.watch_plan(unproxied(self))
        if plan is None:
            return
        runner = watchers.guard_own if plan.own_generation else watchers.follow
        async for event in runner(self, plan):
            yield event

    @rx.event
    def check_live(self) -> Events:
        """The page asks when the reply it shows has not moved for a few seconds, or when
        it becomes visible: a watcher is started if none is alive (its worker may be gone)."""
        now = time.time()
        if now - self._checked_at < 2.0:
            return None
        self._checked_at = now
        if self.generating and self.generation_id in watchers.RUNNING_HERE:
            return None
        stale_after = watchers.TICK_S * 3 if self.shows_live else watchers.IDLE_TICK_S * 2 + 5
        if self._watch_token and now - self._watch_beat < stale_after:
            return None
        if not self.conversation_id or not self._owner_id:
            return None
        own = self.generating and self.generation_id != ""
        if view.new_watch(self, self._chat(), own=own):
            return event_of(LiveState.watch)
        return None

    @rx.event(background=True)
    async def generate(self) -> AsyncIterator[EventSpec]:
        # Inside `async with self` the work is done on the tab's state itself (the seam's
        # `unproxied`), as an ordinary event handler does it.
        async with self:
            job = unproxied(self)._job()
        if job is None:
            return
        mine = job.generation_id
        watchers.RUNNING_HERE.add(mine)
        # Everything slow (DB, Claude) happens outside `async with self`.
        try:
            async for update in runtime.get_service().run(job):
                if isinstance(update, LiveSnapshot):
                    async with self:
                        if self.generation_id == mine:  # not ended by a settled Stop
                            unproxied(self)._show(update)
                elif isinstance(update, TurnStarted):
                    async with self:
                        await reply_ending.started(unproxied(self), update)
                        stale = not versions.shows_history(unproxied(self)._chat(), update)
                    if update.created_conversation:
                        yield _give_url(update.conversation_id)
                    if job.version_of or stale:  # ‹ n/m ›, or the branch Claude is sent
                        await versions.after_start(self, job, update, stale)
                elif isinstance(update, TurnFinished):
                    async with self:
                        if not update.user_turn_saved:  # its files go back to the tray
                            await give_back_files(self, unproxied(self)._files)
                        ending = await reply_ending.finished(unproxied(self), update, mine)
                    for event in _end_events(update, ending):
                        yield event
                elif isinstance(update, ReplySaved):
                    async with self:
                        told = unproxied(self)._chat()._reply_saved(update)
                    if told is not None:
                        yield told
        except Exception:  # a bug must not leave the tab stuck in "generating"
            log.exception("generation %s crashed", job.generation_id)
            async with self:
                if self.generation_id == mine:
                    self._end()
            yield rx.toast.error("Something went wrong while replying. Please try again.")
        finally:
            watchers.RUNNING_HERE.discard(mine)


def _send_next(text: str) -> EventSpec:
    """A message sent while the reply was stopping, sent once it has ended."""
    return event_of(LiveState.send, {COMPOSER_ID: text})


def _end_events(update: TurnFinished, ending: reply_ending.Ending) -> list[EventSpec]:
    events = reply_ending.told_at_end(update, ending)
    if ending.queued:
        events.append(_send_next(ending.queued))
    if not ending.listed:  # a new or deleted conversation, or a search is showing
        events.append(event_of(SidebarState.refresh))
    if ending.rewatch:
        events.append(event_of(LiveState.watch))
    return events


def _give_url(conversation_id: str) -> EventSpec:
    """The new conversation gets its URL by a replace navigation: `/` and `/c/<id>` are one
    route, so the page is not remounted (what the user is typing stays), and the router knows
    the URL, so a reconnect's hydrate (e.g. after a restart) names this conversation. Its
    on_load re-reads the conversation, with this tab's reply still shown live."""
    return rx.redirect(f"/c/{conversation_id}", replace=True)
