"""Opening a conversation (LiveState.load_route): its rows, with its reply in flight shown
live (this tab's own, or another tab's through a watcher), and a reply whose worker is gone
recovered first (stored as interrupted)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.config import get_settings
from ai_chat.state import attachments, payloads, watch
from ai_chat.state import watch_view as view
from ai_chat.state.attachments import AttachmentView
from ai_chat.state.live_vars import LiveVars
from ai_chat.state.shared import model_label
from ai_chat.state.views import to_views
from ai_chat.store import branches
from ai_chat.store import conversations as store
from ai_chat.store.db import read_scope
from ai_chat.store.models import Conversation, Message

UNCLAIMED_S = 10.0  # a turn set up this long ago that no `generate` took was lost


async def open_route(live: LiveVars, owner: str) -> tuple[bool, list[EventSpec]]:
    """The route's conversation shown (`/` a new chat, `/c/<id>` a stored one), read for
    `owner`: (whether to start the watcher set up for it, what the tab is told)."""
    chat = live._chat()
    query = chat.router_data.get("query") or {}
    # One route serves `/` and `/c/<id>` (`/[[c]]/[[cid]]`): anything else is unknown.
    if str(query.get("c", "") or "") not in ("", "c"):
        chat._reset_conversation()
        return False, [rx.redirect("/"), rx.toast.error("That page does not exist.")]
    cid = str(query.get("cid", "") or "")
    if not cid:
        told = await load_new_chat(live)
        return False, [told] if told is not None else []
    try:
        own_gone = await own_reply_gone(live)
        conversation, rows, lost = await load(owner, cid, live)
        files = await attachments.files_of(owner, [r.id for r in rows if r.role == "user"])
    except Exception as exc:  # noqa: BLE001 - the page must still render
        chat.load_error = f"Could not load this conversation: {type(exc).__name__}"
        return False, [rx.toast.error(chat.load_error)]
    if conversation is None:
        chat._reset_conversation()
        return False, [rx.redirect("/"), rx.toast.error("That conversation does not exist.")]
    chat.conversation_id, chat.title, chat.load_error = cid, conversation.title, ""
    chat.model_label = model_label(conversation.model or get_settings().model)
    # This tab's own reply, recovered by a sweep before this load: lost all the same.
    own_lost = own_gone and any(
        r.id == live.live_message_id and r.status == "interrupted" for r in rows
    )
    return show_loaded(live, rows, lost or own_lost, own_gone, files)


async def load_new_chat(live: LiveVars) -> EventSpec | None:
    """`/`: a fresh chat (this tab's first turn kept while it creates its conversation)."""
    live._watch_token = ""  # no conversation shown: nothing to watch
    if live.watching:
        view.unwatch(live)
    lost = await own_reply_gone(live)
    if lost:  # its worker is gone (a restart): nothing will end it but this
        live._end()
    # Keep the screen only while its first turn is creating the conversation.
    if not (live.generating and not live.live_conversation_id):
        live._chat()._reset_conversation()
    return view.lost_toast() if lost else None


def show_loaded(
    live: LiveVars,
    rows: Sequence[Message],
    lost: bool,
    own_gone: bool,
    files: Mapping[str, list[AttachmentView]] | None = None,
) -> tuple[bool, list[EventSpec]]:
    """The loaded rows shown; a reply in flight live; a watcher set up for the rest:
    (whether to start it, what the tab is told)."""
    chat = live._chat()
    if own_gone:  # this tab's reply ended, or its worker is gone: the rows say how
        live._end()
    flying = watch.in_flight(rows)
    own = live.generating and live.live_message_id == (flying.id if flying else "")
    if live.watching:
        view.unwatch(live)
    live_id = flying.id if flying and (own or not live.generating) else ""
    chat.messages, chat.new_messages = to_views(rows, exclude_id=live_id, files=files), []
    chat._show_versions(rows if isinstance(rows, branches.Path) else branches.Path())
    if flying is not None and not own and not live.generating:
        view.watch_begin(live, flying.id, text=flying.content, status=flying.status)
    running_here = own and live.generation_id in watch.RUNNING_HERE
    watched = live_id if not own else ""
    start_watch = not running_here and view.new_watch(live, chat, own=own, watched=watched)
    return start_watch, [view.lost_toast()] if lost else []


async def own_reply_gone(live: LiveVars) -> bool:
    """This tab's reply is no longer running anywhere (its `generate` had taken it, and
    neither runs here nor holds a lease): ended or lost with its worker."""
    if not live.generating or live.generation_id in watch.RUNNING_HERE:
        return False
    if not live._claimed:  # its `generate` is on its way, unless it was lost with a worker
        return time.time() - live._begun_at > UNCLAIMED_S
    return not await watch.reply_alive(live.generation_id, live.live_message_id)


async def load(
    owner: str, cid: str, live: LiveVars
) -> tuple[Conversation | None, list[Message], bool]:
    """(conversation, rows, lost) from the DB; a reply in flight whose owner is gone is
    recovered first (stored as interrupted: `lost`), unless it is this tab's own running here."""
    if not payloads.entity_id(cid):
        return None, [], False
    async with read_scope() as session:
        conversation = await store.get_conversation(session, owner, cid)
        # The branch shown (store/branches.py), with its versions' counts: one query.
        rows = await branches.active_path(session, owner, cid) if conversation else []
    flying = watch.in_flight(rows)
    if flying is None or (live.generating and live.generation_id in watch.RUNNING_HERE):
        return conversation, rows, False
    if await watch.recover(owner, cid):
        return conversation, await watch.read_rows(owner, cid), True
    return conversation, rows, False
