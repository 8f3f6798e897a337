"""Opening a conversation (ChatState.load_route): its rows, with its reply in flight shown
live (this tab's own, or another tab's through a watcher), and a reply whose worker is gone
recovered first (stored as interrupted)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ai_chat.state import payloads, watch
from ai_chat.state import watch_view as view
from ai_chat.state.views import to_views
from ai_chat.store import conversations as store
from ai_chat.store.db import read_scope

if TYPE_CHECKING:
    from ai_chat.state.chat import ChatState
    from ai_chat.state.live import LiveState

UNCLAIMED_S = 10.0  # a turn set up this long ago that no `generate` took was lost


async def load_new_chat(chat: ChatState, live: LiveState):
    """`/`: a fresh chat (this tab's first turn kept while it creates its conversation)."""
    live._watch_token = ""  # no conversation shown: nothing to watch
    if live.watching:
        view.unwatch(live)
    lost = await own_reply_gone(live)
    if lost:  # its worker is gone (a restart): nothing will end it but this
        live._end()
    # Keep the screen only while its first turn is creating the conversation.
    if not (live.generating and not live.live_conversation_id):
        chat._reset_conversation()
    return view.lost_toast() if lost else None


def show_loaded(chat: ChatState, live: LiveState, rows, lost: bool, own_gone: bool) -> list:
    """The loaded rows shown; a reply in flight live; a watcher for the rest."""
    if own_gone:  # this tab's reply ended, or its worker is gone: the rows say how
        live._end()
    flying = watch.in_flight(rows)
    own = live.generating and live.live_message_id == (flying.id if flying else "")
    if live.watching:
        view.unwatch(live)
    live_id = flying.id if flying and (own or not live.generating) else ""
    chat.messages, chat.new_messages = to_views(rows, exclude_id=live_id), []
    if flying is not None and not own and not live.generating:
        view.watch_begin(live, flying.id, text=flying.content, status=flying.status)
    running_here = own and live.generation_id in watch.RUNNING_HERE
    events: list = []
    if not running_here and view.new_watch(live, chat, own=own, watched=live_id if not own else ""):
        events.append(type(live).watch)
    if lost:
        events.append(view.lost_toast())
    return events


async def own_reply_gone(live: LiveState) -> bool:
    """This tab's reply is no longer running anywhere (its `generate` had taken it, and
    neither runs here nor holds a lease): ended or lost with its worker."""
    if not live.generating or live.generation_id in watch.RUNNING_HERE:
        return False
    if not live._claimed:  # its `generate` is on its way, unless it was lost with a worker
        return time.time() - live._begun_at > UNCLAIMED_S
    return not await watch.reply_alive(live.generation_id, live.live_message_id)


async def load(owner: str, cid: str, live: LiveState) -> tuple:
    """(conversation, rows, lost) from the DB; a reply in flight whose owner is gone is
    recovered first (stored as interrupted: `lost`), unless it is this tab's own running here."""
    if not payloads.entity_id(cid):
        return None, [], False
    async with read_scope() as session:
        conversation = await store.get_conversation(session, owner, cid)
        rows = list(await store.list_messages(session, owner, cid)) if conversation else []
    flying = watch.in_flight(rows)
    if flying is None or (live.generating and live.generation_id in watch.RUNNING_HERE):
        return conversation, rows, False
    if await watch.recover(owner, cid):
        return conversation, list(await watch.read_rows(owner, cid)), True
    return conversation, rows, False
