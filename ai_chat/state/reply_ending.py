"""What a tab's own reply changes at its start and at its end, inside the tab's lock
(`LiveState.generate`): the new conversation's id, the ended reply moved into the history,
the sidebar's order, and what the tab is told."""

from __future__ import annotations

from typing import NamedTuple

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.generation import titles
from ai_chat.generation.job import TurnFinished, TurnStarted
from ai_chat.limits.user_limits import limits_for
from ai_chat.state import watch_view as view
from ai_chat.state.live_vars import LiveVars
from ai_chat.state.shared import COMPOSER_ID, event_of
from ai_chat.state.sidebar import UNTITLED, SidebarState
from ai_chat.state.views import to_view
from ai_chat.store.models import MessageStatus

NOT_SAVED_YET = (
    "The reply could not be saved yet (the database did not answer). It is kept and "
    "saved as soon as possible; until then it is marked Not saved yet."
)
DELETED_DURING_REPLY = (
    "This conversation was deleted (perhaps in another tab), so this reply was not saved."
)


class Ending(NamedTuple):
    queued: str  # a message sent while the turn was stopping: sent now
    listed: bool  # the sidebar showed the turn's recency in place (else: refresh it)
    deleted_while_shown: bool  # the tab still shows a conversation deleted elsewhere
    rewatch: bool = False  # a watcher was set up for the conversation shown
    shown: bool = False  # the ended reply (and its error) is shown in this tab's chat
    titling: str = ""  # a new conversation whose title is being made: the tab follows it


async def started(live: LiveVars, update: TurnStarted) -> None:
    live._live_title = update.title
    live._assign(live_conversation_id=update.conversation_id)
    chat = live._chat()
    if update.created_conversation and not chat.conversation_id:
        chat.conversation_id, chat.title = update.conversation_id, update.title
    if update.created_conversation:  # listed at once, not when its first reply ends
        sidebar = await live.get_state(SidebarState)
        sidebar._bring_to_top(update.conversation_id, update.title or UNTITLED)
        sidebar._first_turn = (update.conversation_id, update.user_message.content, update.title)


async def finished(live: LiveVars, update: TurnFinished, generation_id: str) -> Ending:
    """Move the ended reply into the history; what the tab is told besides."""
    chat = live._chat()
    current = live.generation_id == generation_id  # else a settled Stop ended it here
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
    queued = live._take_queued()
    sidebar = await live.get_state(SidebarState)
    listed = (
        update.user_turn_saved
        and not update.conversation_deleted
        and sidebar._bring_to_top(update.message.conversation_id, live._live_title)
    )
    titling = _start_title(live, sidebar, update)
    live._end()
    live.announcement = _announce_end(update)
    rewatch = shown and not update.conversation_deleted and view.new_watch(live, chat)
    return Ending(queued, listed, shown and update.conversation_deleted, rewatch, shown, titling)


def _start_title(live: LiveVars, sidebar: SidebarState, update: TurnFinished) -> str:
    """After a new conversation's first reply, complete: its title job (generation/titles.py)
    started; the conversation's id, for the tab to follow it ("" when none started)."""
    first, sidebar._first_turn = sidebar._first_turn, ()
    message = update.message
    if (
        not first
        or first[0] != message.conversation_id
        or message.status != MessageStatus.COMPLETE.value
        or update.save_error
        or update.conversation_deleted
        or live._who is None
    ):
        return ""
    conversation_id, first_message, provisional = first
    begun = titles.start(
        live._who.user_id,
        limits_for(live._who),
        conversation_id,
        first_message,
        message.content,
        provisional,
    )
    return conversation_id if begun else ""


def _announce_end(update: TurnFinished) -> str:
    message = update.message
    if message.status == MessageStatus.COMPLETE.value:
        return "Claude replied: " + message.content[:300]
    if message.status == MessageStatus.CANCELLED.value:
        return "Reply stopped."
    return "Reply failed. " + (message.error or "")


def told_at_end(update: TurnFinished, ending: Ending) -> list[EventSpec]:
    """What the tab is told when its reply ended (the handler adds what runs next)."""
    events: list[EventSpec] = []
    if not update.user_turn_saved:  # nothing was stored: give the text back
        events.append(rx.set_value(COMPOSER_ID, update.user_text))
    if update.save_pending:
        events.append(rx.toast.warning(NOT_SAVED_YET))
    elif update.save_error:
        events.append(rx.toast.error(update.save_error))
    elif update.message.status == MessageStatus.FAILED.value and not ending.shown:
        # Shown in the reply's bubble when the tab shows its conversation: said once there.
        events.append(rx.toast.error(update.message.error or "The reply failed."))
    elif ending.deleted_while_shown:
        events.append(rx.toast.warning(DELETED_DURING_REPLY))
    if ending.titling:
        events.append(event_of(SidebarState.follow_title, ending.titling))
    return events
