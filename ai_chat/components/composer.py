"""The message box: Enter sends, Shift+Enter adds a line, Send/Stop swap while streaming."""

from __future__ import annotations

from typing import Any

import reflex as rx

from ai_chat.components._connection_seam import connected, offline
from ai_chat.components._typed_reflex import icon
from ai_chat.components.attachments import attach_button, attach_tray
from ai_chat.components.model_picker import model_picker
from ai_chat.config import get_settings
from ai_chat.state.auth import AuthState
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.shared import COMPOSER_ID

MESSAGE_ERROR_ID = "message-error"


def limited_field_attrs(
    limit: int, what: str, action: str, error_id: str
) -> dict[str, str | rx.Var[Any]]:
    """Attributes for a text field whose value is refused in the browser past `limit`
    characters (assets/chat_page.js); `what` names it in the message ("Your message"),
    `action` is what the form does ("send"), `error_id` the id of the element that shows the
    message."""
    return {
        "data-max-chars": str(limit),
        "data-what": what,
        "data-action": action,
        "data-error-id": error_id,
        "aria-describedby": error_id,
    }


def field_error(error_id: str) -> rx.Component:
    """Where assets/chat_page.js says why a text can't be sent (empty otherwise): announced
    at once."""
    return rx.el.p(
        id=error_id,
        role="alert",
        class_name="field-error",
        color=rx.color("red", 11),
        font_size="0.875rem",
        margin="0",
    )


def _editing_banner() -> rx.Component:
    # A message is edited in place, in its bubble (components/versions.py), not in this box.
    return rx.fragment()


def _tools() -> rx.Component:
    """Under the box: the model picker, the keys, and what assets/chat_page.js reads to
    keep drafts per conversation and the browser tab's title."""
    return rx.hstack(
        model_picker(),
        rx.text(
            "Enter to send · Shift+Enter for a new line",
            size="1",
            color_scheme="gray",
            class_name="composer-keys",
        ),
        rx.el.span(
            id="composer-context",
            hidden=True,
            data_user=AuthState.username,
            data_conversation=ChatState.conversation_id,
            data_title=ChatState.title,
        ),
        align="center",
        width="100%",
        class_name="composer-tools",
    )


def composer(max_chars: int | None = None) -> rx.Component:
    """`max_chars`: the longest message (AI_CHAT_MAX_MESSAGE_CHARS by default), checked in the
    browser before sending; LiveState.send checks it again."""
    limit = get_settings().max_message_chars if max_chars is None else max_chars
    return rx.form(
        _editing_banner(),
        attach_tray(),
        rx.hstack(
            attach_button(),
            rx.el.textarea(
                id=COMPOSER_ID,
                name=COMPOSER_ID,
                aria_label="Message",
                # Short: one line at phone width (the keys are told below the box).
                placeholder="Message Claude…",
                # Its height follows its text, set or typed (assets/chat.css field-sizing,
                # assets/chat_page.js where unsupported): one line again once sent.
                rows="1",
                class_name="composer-input",
                auto_focus=True,
                custom_attrs=limited_field_attrs(limit, "Your message", "send", MESSAGE_ERROR_ID),
            ),
            rx.cond(
                LiveState.shows_live,
                rx.button(
                    icon("square", size=16),
                    "Stop",
                    type="button",
                    aria_label="Stop",
                    color_scheme="red",
                    # Radix's solid red-9 under white text is 3.9:1 (WCAG AA wants 4.5:1).
                    high_contrast=True,
                    on_click=LiveState.stop,
                    disabled=LiveState.stopping,
                ),
                rx.button(
                    icon("send", size=16),
                    "Send",
                    type="submit",
                    aria_label="Send",
                    disabled=~connected,
                ),
            ),
            align="end",
            width="100%",
        ),
        field_error(MESSAGE_ERROR_ID),
        _tools(),
        rx.cond(
            ~connected & ~offline,  # the first connect; a dropped one has its own banner
            rx.text("Connecting to the server…", size="1", color_scheme="orange", role="status"),
        ),
        on_submit=LiveState.send,
        reset_on_submit=False,
        width="100%",
        class_name="composer",
    )
