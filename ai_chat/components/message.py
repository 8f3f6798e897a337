"""A stored message, and the live one. Each status renders distinctly."""

from __future__ import annotations

from typing import Any, Literal

import reflex as rx
from reflex.event import EventType
from reflex.vars import ObjectVar, Var

from ai_chat.components._typed_reflex import choose, icon
from ai_chat.components.attachments import sent_files
from ai_chat.components.markdown import live_markdown_or_plain, markdown_or_plain
from ai_chat.components.versions import edit_box, version_switch
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.shared import event_of
from ai_chat.state.views import ChatMessage

BadgeColor = Literal["amber", "red", "orange"]

STATUS_BADGES: dict[str, tuple[str, BadgeColor]] = {
    "cancelled": ("Stopped", "amber"),
    "failed": ("Failed", "red"),
    "interrupted": ("Interrupted", "orange"),
}


def _reply(text: Var[str], too_deep: Var[bool]) -> rx.Component:
    """A reply as Markdown, or as plain text if it nests too deeply for the renderer."""
    return markdown_or_plain(text, too_deep, class_name="message-body")


def _live_reply() -> rx.Component:
    text = LiveState.live_text_head + LiveState.live_text_tail
    return live_markdown_or_plain(text, LiveState.live_too_deep, class_name="message-body")


def _status_badge(status: Var[str]) -> rx.Component:
    component = rx.match(
        status,
        *[
            (
                key,
                rx.badge(
                    label, color_scheme=color, variant="soft", data_status=key, high_contrast=True
                ),
            )
            for key, (label, color) in STATUS_BADGES.items()
        ],
        rx.fragment(),
    )
    assert isinstance(component, rx.Component)  # every branch is a component
    return component


def _usage(message: ObjectVar[ChatMessage]) -> rx.Component:
    return rx.text(
        message.input_tokens.to_string(),
        " in · ",
        choose(message.output_estimated, "≈", ""),
        message.output_tokens.to_string(),
        " out",
        choose(
            message.cache_read_tokens.to(int) > 0,
            " · " + message.cache_read_tokens.to_string() + " cached",
            "",
        ),
        rx.cond(
            message.cost_label != "",
            rx.fragment(" · ", choose(message.output_estimated, "≈", ""), message.cost_label),
        ),
        " · ",
        message.duration_s.to_string(),
        " s",
        size="1",
        color_scheme="gray",
        class_name="usage",
    )


def _action(icon_name: str, label: str, on_click: EventType[()], **props: Any) -> rx.Component:
    return rx.tooltip(
        rx.icon_button(
            icon(icon_name, size=16),
            variant="ghost",
            size="2",  # 32x32 px: a comfortable target (chat.css)
            color_scheme="gray",
            aria_label=label,
            on_click=on_click,
            **props,
        ),
        content=label,
    )


def _actions(message: ObjectVar[ChatMessage], is_last: Var[bool]) -> rx.Component:
    # Turn actions hide while a reply streams through CSS on the page root (data-generating),
    # so starting or ending a stream does not re-render every stored message.
    copy = _action(
        "copy",
        "Copy message",
        [rx.set_clipboard(message.content), rx.toast.success("Copied", duration=1500)],
    )
    user_actions = rx.fragment(
        _action(
            "pencil",
            "Edit message",
            event_of(ChatState.start_edit, message.id),
            class_name="turn-action",
        ),
        # The last question, left without a reply (lost, or never started): ask again.
        rx.cond(
            is_last & message.unanswered,
            _action("rotate-ccw", "Retry", LiveState.regenerate, class_name="turn-action"),
        ),
    )
    assistant_actions = rx.cond(
        is_last,
        rx.cond(
            message.status == "complete",
            _action(
                "refresh-cw", "Regenerate reply", LiveState.regenerate, class_name="turn-action"
            ),
            rx.fragment(
                _action("rotate-ccw", "Retry", LiveState.regenerate, class_name="turn-action"),
                rx.cond(
                    (message.status == "cancelled") | (message.status == "interrupted"),
                    _action(
                        "fast-forward",
                        "Continue",
                        LiveState.continue_reply,
                        class_name="turn-action",
                    ),
                ),
            ),
        ),
    )
    return rx.hstack(
        version_switch(message),
        copy,
        rx.cond(message.role == "user", user_actions, assistant_actions),
        spacing="1",
        align="center",
        class_name="message-actions",
    )


def history_bubble(message: ObjectVar[ChatMessage], index: Var[int]) -> rx.Component:
    """A turn of the history as loaded; the last one shown only if no turn came since."""
    last = (index == ChatState.messages.length() - 1) & (ChatState.new_messages.length() == 0)
    return message_bubble(message, last)


def new_bubble(message: ObjectVar[ChatMessage], index: Var[int]) -> rx.Component:
    """A turn of this tab's since the history was loaded."""
    return message_bubble(message, index == ChatState.new_messages.length() - 1)


def message_bubble(message: ObjectVar[ChatMessage], is_last: Var[bool]) -> rx.Component:
    is_user = message.role == "user"
    editing = ChatState.editing_id == message.id  # edited in place (components/versions.py)
    return rx.box(
        rx.cond(
            is_user,
            rx.cond(
                editing,
                edit_box(message),
                rx.vstack(
                    sent_files(message.attachments),
                    rx.text(message.content, white_space="pre-wrap", class_name="message-body"),
                    rx.cond(message.unanswered, _no_reply()),
                    spacing="1",
                    align="end",
                ),
            ),
            rx.vstack(
                _thinking(message.thinking),
                _reply(message.content, message.too_deep),
                rx.cond(
                    message.error != "",
                    rx.callout(
                        message.error,
                        icon="triangle_alert",
                        color_scheme="red",
                        size="1",
                        role="alert",
                        high_contrast=True,
                    ),
                ),
                rx.hstack(
                    _status_badge(message.status),
                    rx.cond(message.save_pending, _not_saved_badge()),
                    rx.cond(message.output_tokens.to(int) > 0, _usage(message)),
                    align="center",
                ),
                spacing="1",
                width="100%",
            ),
        ),
        rx.cond(editing, rx.fragment(), _actions(message, is_last)),
        class_name=choose(
            is_user,
            choose(editing, "bubble bubble-user bubble-editing", "bubble bubble-user"),
            "bubble bubble-assistant",
        ),
        data_role=message.role,
        data_status=message.status,
        id="msg-" + message.id.to(str),
    )


def _no_reply() -> rx.Component:
    """A question left without a reply: said, and not sent to Claude with later ones."""
    return rx.tooltip(
        rx.badge(
            "No reply",
            color_scheme="gray",
            variant="soft",
            high_contrast=True,
            class_name="no-reply",
        ),
        content="This message got no reply; it is not sent to Claude with later messages.",
    )


def _not_saved_badge() -> rx.Component:
    return rx.badge(
        "Not saved yet",
        color_scheme="orange",
        variant="soft",
        high_contrast=True,
        class_name="not-saved",
        data_status="not-saved",
    )


def _thinking(text: Var[str]) -> rx.Component:
    """Extended thinking, collapsed, apart from the answer."""
    return rx.cond(
        text != "",
        rx.el.details(
            rx.el.summary("Thinking"),
            rx.text(text, white_space="pre-wrap", size="2", color_scheme="gray"),
            class_name="thinking",
        ),
    )


def live_bubble() -> rx.Component:
    """The reply in flight: typing dots while thinking, then the text as it streams."""
    return rx.box(
        _thinking(LiveState.live_thinking),
        rx.cond(
            LiveState.live_status == "thinking",
            rx.hstack(
                rx.box(class_name="dot"),
                rx.box(class_name="dot"),
                rx.box(class_name="dot"),
                rx.text(
                    choose(
                        LiveState.live_retry_attempt > 0,
                        "Claude is busy. Retrying ("
                        + LiveState.live_retry_attempt.to_string()
                        + "/"
                        + LiveState.live_retry_max.to_string()
                        + ")…",
                        "Claude is thinking…",
                    ),
                    size="2",
                    color_scheme="gray",
                    class_name="live-status",
                ),
                class_name="typing",
                align="center",
            ),
            _live_reply(),
        ),
        rx.text(
            choose(LiveState.stopping, "Stopping… · ", ""),
            LiveState.live_elapsed_s.to_string(),
            " s · ",
            LiveState.live_output_tokens.to_string(),
            " tokens",
            size="1",
            color_scheme="gray",
            class_name="live-meta",
        ),
        class_name="bubble bubble-assistant bubble-live",
        data_role="assistant",
        data_status=LiveState.live_status,
        id="live-reply",
        aria_busy="true",
    )
