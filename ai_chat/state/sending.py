"""A turn's start (`LiveState.send`, `regenerate`, `continue_reply`): the composer's text
checked, and the turn set up in the tab, or refused with the reason."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.auth.identity import Identity
from ai_chat.config import get_settings
from ai_chat.state import payloads
from ai_chat.state import watch_view as view
from ai_chat.state.attachments import AttachmentsState
from ai_chat.state.live_vars import LiveVars
from ai_chat.state.settings import SettingsState
from ai_chat.state.shared import COMPOSER_ID, Events
from ai_chat.state.views import ChatMessage
from ai_chat.store.models import new_id
from ai_chat.store.text import clean_text


def composer_text(
    form_data: dict[str, Any] | None, allow_empty: bool = False
) -> str | EventSpec | None:
    """The message the composer sent; else what the tab is told (None: nothing to send).
    `allow_empty`: an empty text is returned as "" (a message of files alone)."""
    form = payloads.form(form_data)
    text = form.get(COMPOSER_ID, "") if form is not None else None
    if not isinstance(text, str):
        return payloads.malformed()
    if not text.strip():
        return "" if allow_empty else None
    limit = get_settings().max_message_chars
    if len(text) > limit:
        return rx.toast.error(
            f"Your message is {len(text):,} characters; the limit is {limit:,}. "
            "Shorten it and send again (your text is still in the box)."
        )
    return text


async def begin_turn(
    live: LiveVars,
    who: Identity,
    text: str,
    replace_from: str | None,
    reuse_id: str,
    with_files: bool = False,
) -> tuple[bool, Events]:
    """Sets the turn up for `LiveState.generate`: (True, None); or (False, what the tab is
    told) when it can't start now. `with_files`: the tray's files go with it (a refused
    turn leaves them there)."""
    busy, told = _busy(live, text, replace_from)
    if busy:
        return False, told
    chat = live._chat()
    text = clean_text(text)  # lone surrogates and NUL: as stored, so as Claude gets it
    # Regenerate and Edit keep the files the message had (the store keeps them linked).
    kept = next((m.attachments for m in chat._shown_messages() if m.id == replace_from), [])
    kept = list(kept)
    # Versions: what they replace stays stored; the tab shows the new branch from here.
    regenerate = bool(replace_from) and reuse_id == replace_from  # the question stays
    if replace_from and not chat._truncate_from(replace_from, keep=regenerate):
        chat.editing_id = ""
        return False, rx.toast.error("That message is no longer in this conversation.")
    files = (await live.get_state(AttachmentsState))._take() if with_files else []
    user_message_id = reuse_id or new_id()
    if not regenerate:
        chat._add_message(
            ChatMessage(id=user_message_id, role="user", content=text, attachments=kept + files)
        )
    live._begin(who, chat.conversation_id, text, user_message_id, replace_from or "")
    live._files = files
    if not chat.conversation_id:  # settings chosen before the first message
        live._new_settings = (await live.get_state(SettingsState))._take_pending()
    chat._assign(editing_id="")
    return True, None


def _busy(live: LiveVars, text: str, replace_from: str | None) -> tuple[bool, Events]:
    """Whether a reply running or shown keeps the turn from starting, and what the tab is
    told then."""
    if live.watching and live.live_conversation_id == live.conversation_id:
        # Another tab's reply streams here: one reply at a time per conversation.
        return True, rx.toast.info(
            "A reply is still streaming in this conversation (sent from another tab or "
            "device). Wait for it or press Stop; your text is still in the box."
        )
    if live.watching:  # a reply of another conversation, no longer shown
        view.unwatch(live)
    if not live.generating:
        return False, None
    if live.stopping and not replace_from and text:  # "send right after stop": sent next
        live._queued_text = text
        return True, rx.set_value(COMPOSER_ID, "")
    if text and text == live._user_text and not replace_from:
        return True, None  # the same Enter twice before the box was cleared: sent once
    if live.live_conversation_id != live.conversation_id:
        return True, rx.toast.info(
            "A reply is still streaming in another conversation. "
            "Wait for it or stop it there; your text is still in the box."
        )
    # Enter pressed again while this turn starts or streams: said, not dropped.
    return True, rx.toast.info(
        "Claude is still replying. Wait for it or press Stop; your text is still in the box."
    )
