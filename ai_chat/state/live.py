"""The in-flight reply of a tab: a small substate, so a push never resends the history."""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

import reflex as rx

from ai_chat.auth.identity import Identity
from ai_chat.config import get_settings
from ai_chat.generation import runtime
from ai_chat.generation.job import GenerationJob, ReplySaved, TurnFinished, TurnStarted
from ai_chat.generation.live_reply import LiveSnapshot
from ai_chat.limits.user_limits import limits_for
from ai_chat.state import watch as watchers
from ai_chat.state import watch_view as view
from ai_chat.state.chat import COMPOSER_ID, ChatState
from ai_chat.state.markdown_depth import streaming_too_deep
from ai_chat.state.sidebar import SidebarState
from ai_chat.state.views import to_view
from ai_chat.store.models import MessageStatus, new_id

log = logging.getLogger(__name__)


class LiveState(ChatState):
    generating: bool = False  # this tab's own reply is in flight
    watching: bool = False  # another tab's reply in this conversation is shown live
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
    _owner_id: str = ""  # the signed-in user: a watcher's reads are scoped to them
    _watch_token: str = ""  # the current watcher's (state/watch.py); "" none
    _watch_claimed: bool = False
    _watch_cid: str = ""
    _watch_own: bool = False  # the watcher guards this tab's own reply (task elsewhere)
    _watch_beat: float = 0.0  # when the watcher last looked (a dead one is replaced)
    _watch_message: str = ""  # another tab's reply shown from its checkpoint at load
    _checked_at: float = 0.0
    _begun_at: float = 0.0  # when `_begin` set the turn up (a `generate` claims it at once)
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
        self._user_message_id, self._owner_id = user_message_id, who.user_id
        self.generation_id, self.live_message_id = new_id(), new_id()
        self._watch_token = ""  # this tab's watcher steps aside while its own reply runs
        self._begun_at = time.time()
        self._assign(
            generating=True,
            watching=False,
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
        self._user_text = self._user_message_id = ""
        self._replace_from, self._new_settings, self._live_title = "", {}, ""
        self._who, self._claimed = None, False

    @rx.var
    def shows_live(self) -> bool:
        busy = self.generating or self.watching
        return busy and self.live_conversation_id == self.conversation_id

    @rx.event
    async def stop(self):
        """Stop button / Esc: this tab's reply or another tab's shown here, on any worker.
        Cancels the task that holds the Claude stream (closes it now); `settle_stop` makes
        sure the tab ends in a terminal state even if nobody answers."""
        if await self._stop_generation():
            return LiveState.settle_stop

    async def _stop_generation(self) -> bool:
        if not (self.generating or self.watching) or self.stopping:
            return False
        self.stopping = True
        cancellation = runtime.get_service().cancellation
        if self.generation_id:
            await cancellation.request_stop(self.generation_id)
        else:  # shown from its checkpoint, no frame yet: the conversation's one reply
            await cancellation.stop_conversation(self.live_conversation_id)
        return True

    @rx.event(background=True)
    async def settle_stop(self):
        async for event in watchers.settle_stop(self):
            yield event

    @rx.event(background=True)
    async def watch(self):
        """This tab's watcher (state/watch.py): runs only one that the server set up."""
        async with self:
            plan = view.watch_plan(self.__wrapped__)
        if plan is None:
            return
        runner = watchers.guard_own if plan.own_generation else watchers.follow
        async for event in runner(self, plan):
            yield event

    @rx.event
    def check_live(self):
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
        return self._start_watch()

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
        mine = job.generation_id
        watchers.RUNNING_HERE.add(mine)
        # Everything slow (DB, Claude) happens outside `async with self`.
        try:
            async for update in runtime.get_service().run(job):
                if isinstance(update, LiveSnapshot):
                    async with self:
                        if self.generation_id == mine:  # not ended by a settled Stop
                            self.__wrapped__._show(update)
                elif isinstance(update, TurnStarted):
                    async with self:
                        await self.__wrapped__._started(update)
                    if update.created_conversation:
                        yield _give_url(update.conversation_id)
                elif isinstance(update, TurnFinished):
                    async with self:
                        ending = await self.__wrapped__._finished(update, mine)
                    for event in _finish_events(update, ending):
                        yield event
                elif isinstance(update, ReplySaved):
                    async with self:
                        chat = await self.get_state(ChatState)
                        event = chat._reply_saved(update)
                    if event is not None:
                        yield event
        except Exception:  # a bug must not leave the tab stuck in "generating"
            log.exception("generation %s crashed", job.generation_id)
            async with self:
                if self.generation_id == mine:
                    self._end()
            yield rx.toast.error("Something went wrong while replying. Please try again.")
        finally:
            watchers.RUNNING_HERE.discard(mine)

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

    async def _finished(self, update: TurnFinished, generation_id: str) -> Ending:
        """Move the ended reply into the history; what the tab is told besides."""
        chat = await self.get_state(ChatState)
        current = self.generation_id == generation_id  # else a settled Stop ended it here
        shown = chat.conversation_id == update.message.conversation_id
        message = to_view(update.message)
        message.save_pending = update.save_pending
        # on_load may have re-read it from the DB already (ids are stable): then it is among
        # the newest turns, as this tab sends nothing into the chat while its reply streams.
        if shown and not chat._replace_recent(message):
            chat._add_message(message)
            chat._mark_recent_unanswered()
        if not current:
            return Ending("", True, False, False)
        queued, self._queued_text = self._queued_text, ""
        sidebar = await self.get_state(SidebarState)
        listed = (
            update.user_turn_saved
            and not update.conversation_deleted
            and sidebar._bring_to_top(update.message.conversation_id, self._live_title)
        )
        self._end()
        self.announcement = _announce_end(update)
        rewatch = shown and not update.conversation_deleted and view.new_watch(self, chat)
        return Ending(queued, listed, shown and update.conversation_deleted, rewatch)

    def _chat(self) -> ChatState:
        """The conversation this tab shows (the parent state, loaded with this one)."""
        return self.parent_state  # type: ignore[return-value]

    def _start_watch(self):
        own = self.generating and self.generation_id != ""
        if view.new_watch(self, self._chat(), own=own):
            return LiveState.watch
        return None


NOT_SAVED_YET = (
    "The reply could not be saved yet (the database did not answer). It is kept and "
    "saved as soon as possible; until then it is marked Not saved yet."
)
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
    rewatch: bool = False  # a watcher was set up for the conversation shown


def _finish_events(update: TurnFinished, ending: Ending) -> list:
    events: list = []
    if not update.user_turn_saved:  # nothing was stored: give the text back
        events.append(rx.set_value(COMPOSER_ID, update.user_text))
    if update.save_pending:
        events.append(rx.toast.warning(NOT_SAVED_YET))
    elif update.save_error:
        events.append(rx.toast.error(update.save_error))
    elif update.message.status == MessageStatus.FAILED.value:
        events.append(rx.toast.error(update.message.error or "The reply failed."))
    elif ending.deleted_while_shown:
        events.append(rx.toast.warning(DELETED_DURING_REPLY))
    if ending.queued:
        events.append(ChatState.send({COMPOSER_ID: ending.queued}))
    if not ending.listed:  # a new or deleted conversation, or a search is showing
        events.append(SidebarState.refresh)
    if ending.rewatch:
        events.append(LiveState.watch)
    return events


def _give_url(conversation_id: str):
    """The new conversation gets its URL by a replace navigation: `/` and `/c/<id>` are one
    route, so the page is not remounted (what the user is typing stays), and the router knows
    the URL, so a reconnect's hydrate (e.g. after a restart) names this conversation. Its
    on_load re-reads the conversation, with this tab's reply still shown live."""
    return rx.redirect(f"/c/{conversation_id}", replace=True)
