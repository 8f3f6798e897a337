"""Versions in a tab (`LiveState.switch_version`, and a new version's ‹ n/m ›): which
version of a message is shown, chosen with ‹ ›; the branch chosen is stored, so it is what
Claude sees next and what a reload shows (store/branches.py)."""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.config import get_settings
from ai_chat.generation.job import GenerationJob, TurnStarted
from ai_chat.state import attachments, payloads
from ai_chat.state._reflex_seam import plain_list, unproxied
from ai_chat.state.auth import signed_in, to_signin
from ai_chat.state.chat import ChatState
from ai_chat.state.live_vars import LiveVars
from ai_chat.state.shared import Events
from ai_chat.state.views import to_views
from ai_chat.store import branches
from ai_chat.store.conversations import ConversationNotFound
from ai_chat.store.db import read_scope, run_write

log = logging.getLogger(__name__)

WAIT_FOR_REPLY = "A reply is being written in this conversation: switch versions once it ends."


async def switch(live: LiveVars, message_id: object, direction: object) -> Events:
    """Show the previous (-1) or next (+1) version of a message the tab shows: it and the
    turns of its branch (each with the version last chosen in it)."""
    checked = payloads.entity_id(message_id)
    # An int of -1 or 1 (True == 1, 1.0 == 1: neither is one).
    if checked is None or type(direction) is not int or direction not in (-1, 1):
        return payloads.malformed()
    if (who := await signed_in(live)) is None:
        return to_signin()
    chat = live._chat()
    cid = chat.conversation_id
    if not cid or not chat._shows(checked):
        return rx.toast.info("That message is no longer shown here. Reload to see it.")
    if live.watching or (live.generating and live.live_conversation_id in ("", cid)):
        return rx.toast.info(WAIT_FOR_REPLY)
    try:
        path = await run_write(branches.switch_sync, who.user_id, cid, checked, direction)
        users = [row.id for row in path if row.role == "user"]
        files = await attachments.files_of(who.user_id, users)
    except ConversationNotFound:
        return rx.toast.error("That conversation no longer exists.")
    except branches.VersionsBusy:
        return rx.toast.info(WAIT_FOR_REPLY)
    except LookupError:
        return rx.toast.info("There is no other version of that message.")
    chat._assign(editing_id="")
    chat.messages, chat.new_messages = to_views(path, files=files), []
    chat._show_versions(path)
    return None


def new_version_id(job: GenerationJob, started: TurnStarted) -> str:
    """The message a Regenerate (its reply) or an Edit (its user message) added."""
    return job.assistant_message_id if job.regenerate else started.user_message.id


def shows_history(chat: ChatState, started: TurnStarted) -> bool:
    """Whether the tab shows, before the turn's message, the branch the store sent Claude:
    not when another tab chose another version since (only a conversation with versions
    is compared, by role and text)."""
    if not chat.versions:
        return True
    shown = [*plain_list(chat.messages), *plain_list(chat.new_messages)]
    index = next((i for i, m in enumerate(shown) if m.id == started.user_message.id), None)
    if index is None:
        return True
    before = shown[:index]
    return len(before) == len(started.history) and all(
        m.role == t.role and m.content == t.content
        for m, t in zip(before, started.history, strict=True)
    )


async def after_start(state: Any, job: GenerationJob, started: TurnStarted, stale: bool) -> None:
    """Once the turn is stored (in `LiveState.generate`, `state` its background proxy): a new
    version's ‹ n/m ›, and, when the tab showed another branch than the one stored, that
    branch (what Claude is sent)."""
    version = await version_of(job, started) if job.version_of else None
    rows = await _path(job.owner, started.conversation_id) if stale else None
    async with state:
        live = unproxied(state)
        chat = live._chat()
        if live.generation_id != job.generation_id:  # ended meanwhile (a settled Stop)
            return
        if rows is not None and chat.conversation_id == started.conversation_id:
            chat._sync_rows(rows, live.live_message_id)
        chat._add_version(new_version_id(job, started), version)


async def _path(owner: str, conversation_id: str) -> branches.Path | None:
    try:
        async with read_scope() as session:
            return await branches.active_path(session, owner, conversation_id)
    except Exception:  # the next load shows it
        log.warning("could not read the branch of %s", conversation_id, exc_info=True)
        return None


async def version_of(job: GenerationJob, started: TurnStarted) -> tuple[int, int] | None:
    """The new version's (n, m), read once it is stored; None if that can't be read now
    (the next load shows it)."""
    try:
        async with read_scope() as session:
            return await branches.version(
                session, job.owner, started.conversation_id, new_version_id(job, started)
            )
    except Exception:  # a number beside a message: never fails the turn
        log.warning("could not read the versions of %s", started.conversation_id, exc_info=True)
        return None


EDIT_FIELD = "edit_text"  # the edit box's form field


def edit_text(form_data: object) -> str | None:
    """The edit box's text, or None when the form is malformed."""
    form = payloads.form(form_data)
    text = form.get(EDIT_FIELD) if form is not None else None
    return text if isinstance(text, str) else None


def refuse_edit(text: str, has_files: bool) -> EventSpec | None:
    """Why the edited text can't be sent (None: it can); the box keeps it."""
    if not text.strip() and not has_files:
        return rx.toast.error("A message can't be empty: type something, or Cancel.")
    limit = get_settings().max_message_chars
    if len(text) > limit:
        return rx.toast.error(
            f"Your message is {len(text):,} characters; the limit is {limit:,}. "
            "Shorten it and save again (your text is still in the box)."
        )
    return None
