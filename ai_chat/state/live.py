"""The in-flight reply of a tab: a small substate, so a push never resends the history."""

from __future__ import annotations

import logging
from typing import NamedTuple

import reflex as rx

from ai_chat.auth.identity import Identity
from ai_chat.config import get_settings
from ai_chat.generation import runtime
from ai_chat.generation.live import LiveSnapshot
from ai_chat.generation.turn import GenerationJob, TurnFinished, TurnStarted
from ai_chat.limits.user_limits import limits_for
from ai_chat.state.chat import COMPOSER_ID, ChatState
from ai_chat.state.markdown_depth import streaming_too_deep
from ai_chat.state.sidebar import SidebarState
from ai_chat.state.views import to_view
from ai_chat.store.models import MessageStatus, new_id

log = logging.getLogger(__name__)


def orphan_toast():
    return rx.toast.warning(
        "The server restarted while a reply was streaming; that reply was interrupted."
    )


class LiveState(ChatState):
    generating: bool = False
    stopping: bool = False
    generation_id: str = ""
    live_conversation_id: str = ""
    live_message_id: str = ""
    # The reply so far is head + tail. A push resends only the vars that changed: the tail
    # (the text since the last fold) every time, the head only when the tail is folded in.
    live_text_head: str = ""
    live_text_tail: str = ""
    # The reply so far nests too deeply for the Markdown renderer: shown as plain text.
    live_too_deep: bool = False
    live_thinking: str = ""
    live_status: str = ""
    live_output_tokens: int = 0
    live_elapsed_s: float = 0.0
    # For screen readers (aria-live=polite): changes on status transitions, never per token.
    announcement: str = ""
    # Backend-only: what the background task needs, never sent to the browser.
    _user_text: str = ""
    _user_message_id: str = ""
    _queued_text: str = ""
    _owner_process: str = ""
    _replace_from: str = ""
    _new_settings: dict = {}
    _live_title: str = ""  # the conversation's title, for the sidebar at the turn's end
    _who: Identity | None = None  # whose turn it is (resolved by the handler that began it)
    _claimed: bool = False  # a `generate` has taken the turn: a second (forged) one can't

    def _begin(
        self,
        who: Identity,
        conversation_id: str,
        user_text: str,
        user_message_id: str,
        replace_from: str = "",
    ) -> None:
        self._who, self._claimed = who, False
        self._replace_from, self._user_text = replace_from, user_text
        self._user_message_id, self._owner_process = user_message_id, runtime.PROCESS_ID
        self.generation_id, self.live_message_id = new_id(), new_id()
        self._assign(
            generating=True,
            stopping=False,
            live_conversation_id=conversation_id,
            live_text_head="",
            live_text_tail="",
            live_too_deep=False,
            live_status=MessageStatus.THINKING.value,
            live_output_tokens=0,
            live_elapsed_s=0.0,
            announcement="Claude is thinking…",
        )

    def _end(self) -> None:
        self._assign(
            generating=False,
            stopping=False,
            generation_id="",
            live_message_id="",
            live_status="",
            live_text_head="",
            live_text_tail="",
            live_too_deep=False,
            live_thinking="",
            live_output_tokens=0,
            live_elapsed_s=0.0,
        )
        self._user_text = self._user_message_id = self._owner_process = ""
        self._replace_from, self._new_settings, self._live_title = "", {}, ""
        self._who, self._claimed = None, False

    def _recover_orphan(self) -> bool:
        """Clear a generation whose server process died (its task can't be reached)."""
        if self.generating and runtime.is_orphaned(self._owner_process):
            self._end()
            return True
        return False

    @rx.var
    def shows_live(self) -> bool:
        return self.generating and self.live_conversation_id == self.conversation_id

    @rx.event
    async def stop(self):
        """Stop button / Esc. Cancels the task that holds the Claude stream (closes it now)."""
        if self._recover_orphan():
            return orphan_toast()
        await self._stop_generation()

    async def _stop_generation(self) -> None:
        if not self.generating or self.stopping:
            return
        self.stopping = True
        await runtime.get_service().cancellation.request_stop(self.generation_id)

    @rx.event(background=True)
    async def generate(self):
        # Inside `async with self` the work is done on the tab's state itself
        # (`__wrapped__`, locked and current there), as an ordinary event handler does: each
        # read and write through the background task's proxy runs its checks, and a turn's
        # end touches some twenty vars.
        async with self:
            job = self.__wrapped__._job()
        if job is None:
            return
        # Everything slow (DB, Claude) happens outside `async with self`.
        try:
            async for update in runtime.get_service().run(job):
                if isinstance(update, LiveSnapshot):
                    async with self:
                        self.__wrapped__._show(update)
                elif isinstance(update, TurnStarted):
                    async with self:
                        await self.__wrapped__._started(update)
                    if update.created_conversation:
                        yield _give_url(update.conversation_id)
                elif isinstance(update, TurnFinished):
                    async with self:
                        ending = await self.__wrapped__._finished(update)
                    for event in _finish_events(update, ending):
                        yield event
        except Exception:  # a bug must not leave the tab stuck in "generating"
            log.exception("generation %s crashed", job.generation_id)
            async with self:
                self._end()
            yield rx.toast.error("Something went wrong while replying. Please try again.")

    def _job(self) -> GenerationJob | None:
        """The turn `begin` set up, or None if there is none (stopped, or already ended)."""
        if not self.generating or not self._user_text or self._claimed or self._who is None:
            return None
        self._claimed = True
        settings = get_settings()
        return GenerationJob(
            owner=self._who.user_id,
            limits=limits_for(self._who),
            conversation_id=self.live_conversation_id or None,
            user_text=self._user_text,
            user_message_id=self._user_message_id or None,
            replace_from_message_id=self._replace_from or None,
            new_conversation_settings=self._new_settings,
            generation_id=self.generation_id,
            assistant_message_id=self.live_message_id,
            model=settings.model,
            max_tokens=settings.max_output_tokens,
        )

    def _show(self, snapshot: LiveSnapshot) -> None:
        if snapshot.status == "streaming" and self.live_status != "streaming":
            self.announcement = "Claude is replying…"
        too_deep = streaming_too_deep(
            self.live_too_deep, self.live_text_head, self.live_text_tail, snapshot.text
        )
        head, tail = split_live_text(self.live_text_head, snapshot.text)
        self._assign(
            live_too_deep=too_deep,
            live_status=snapshot.status,
            live_text_head=head,
            live_text_tail=tail,
            live_thinking=snapshot.thinking,
            live_output_tokens=snapshot.output_tokens,
            live_elapsed_s=snapshot.elapsed_s,
        )

    async def _started(self, update: TurnStarted) -> None:
        self._live_title = update.title
        self._assign(live_conversation_id=update.conversation_id)
        chat = await self.get_state(ChatState)
        if update.created_conversation and not chat.conversation_id:
            chat.conversation_id, chat.title = update.conversation_id, update.title

    async def _finished(self, update: TurnFinished) -> Ending:
        """Move the ended reply into the history; what the tab is told besides."""
        chat = await self.get_state(ChatState)
        shown = chat.conversation_id == self.live_conversation_id
        # on_load may have re-read it from the DB already (ids are stable): then it is among
        # the newest turns, as this tab sends nothing into the chat while its reply streams.
        if shown and not chat._shows_recent(update.message.id):
            chat._add_message(to_view(update.message))
        queued, self._queued_text = self._queued_text, ""
        sidebar = await self.get_state(SidebarState)
        listed = (
            update.user_turn_saved
            and not update.conversation_deleted
            and sidebar._bring_to_top(update.message.conversation_id, self._live_title)
        )
        self._end()
        self.announcement = _announce_end(update)
        return Ending(queued, listed, deleted_while_shown=shown and update.conversation_deleted)


DELETED_DURING_REPLY = (
    "This conversation was deleted (perhaps in another tab), so this reply was not saved."
)
FOLD_CHARS = 1024  # ~250 tokens: a 4,000-token reply sends ~1/10 of the bytes of whole-text pushes


def split_live_text(head: str, text: str) -> tuple[str, str]:
    """`text` as (head, tail) given the head already shown: the head stays while the tail
    is short, else the whole text becomes the head (also when `text` doesn't extend it)."""
    if text.startswith(head) and len(text) - len(head) <= FOLD_CHARS:
        return head, text[len(head) :]
    return text, ""


def _announce_end(update: TurnFinished) -> str:
    message = update.message
    if message.status == MessageStatus.COMPLETE.value:
        return "Claude replied: " + message.content[:300]
    if message.status == MessageStatus.CANCELLED.value:
        return "Reply stopped."
    return "Reply failed. " + (message.error or "")


class Ending(NamedTuple):
    queued: str  # a message sent while the turn was stopping: sent now
    listed: bool  # the sidebar showed the turn's recency in place (else: refresh it)
    deleted_while_shown: bool  # the tab still shows a conversation deleted elsewhere


def _finish_events(update: TurnFinished, ending: Ending) -> list:
    events: list = []
    if not update.user_turn_saved:  # nothing was stored: give the text back
        events.append(rx.set_value(COMPOSER_ID, update.user_text))
    if update.save_error:
        events.append(rx.toast.error(update.save_error))
    elif update.message.status == MessageStatus.FAILED.value:
        events.append(rx.toast.error(update.message.error or "The reply failed."))
    elif ending.deleted_while_shown:
        events.append(rx.toast.warning(DELETED_DURING_REPLY))
    if ending.queued:
        events.append(ChatState.send({COMPOSER_ID: ending.queued}))
    if not ending.listed:  # a new or deleted conversation, or a search is showing
        events.append(SidebarState.refresh)
    return events


def _give_url(conversation_id: str):
    """The new conversation gets its URL without a navigation: navigating would remount the
    page, dropping what the user is typing and re-running on_load mid-stream. The router's
    history state is kept, so Back/Forward and reload work as usual."""
    return rx.call_script(
        f"window.history.replaceState(window.history.state, '', '/c/{conversation_id}')"
    )
