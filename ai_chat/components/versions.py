"""Versions on a message: ‹ n/m › to switch between them, and a user message edited in
place (the bubble becomes a box with Save and Cancel, where it is)."""

from __future__ import annotations

from typing import cast

import reflex as rx
from reflex.vars import ObjectVar

from ai_chat.components._typed_reflex import icon
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.shared import event_of
from ai_chat.state.versions import EDIT_FIELD
from ai_chat.state.views import ChatMessage


def _step(message_id: rx.Var[str], direction: int, disabled: rx.Var[bool]) -> rx.Component:
    label = "Previous version" if direction < 0 else "Next version"
    return rx.tooltip(
        rx.icon_button(
            icon("chevron-left" if direction < 0 else "chevron-right", size=16),
            variant="ghost",
            size="2",  # 32x32 px, like the other message actions
            color_scheme="gray",
            aria_label=label,
            disabled=disabled,
            on_click=event_of(LiveState.switch_version, message_id, direction),
            class_name="turn-action",  # hidden while a reply streams (chat.css)
        ),
        content=label,
    )


def version_switch(message: ObjectVar[ChatMessage]) -> rx.Component:
    """‹ n/m › for a message that has other versions (nothing otherwise)."""
    # Typed by hand: mypy reads the dict var's item by a var key as a list's item.
    versions = cast(ObjectVar[dict[str, list[int]]], ChatState.versions)
    version = versions[message.id.to(str)]
    shown, count = version[0].to(int), version[1].to(int)
    return rx.cond(
        versions.contains(message.id),
        rx.hstack(
            _step(message.id, -1, shown <= 1),
            rx.el.span("Version ", class_name="sr-only"),
            rx.text(
                shown.to_string() + " / " + count.to_string(),
                as_="span",
                size="1",
                class_name="version-label",
            ),
            _step(message.id, 1, shown >= count),
            spacing="0",
            align="center",
            class_name="versions",
            data_version=shown.to_string(),
            data_versions=count.to_string(),
        ),
    )


def edit_box(message: ObjectVar[ChatMessage]) -> rx.Component:
    """The user message as an editable box where it is: Save sends it as a new version."""
    return rx.form(
        rx.text_area(
            name=EDIT_FIELD,
            default_value=message.content,
            auto_focus=True,
            aria_label="Edit your message",
            class_name="edit-input",  # no id: an id adds a ref shared by both message lists
            resize="vertical",
            width="100%",
        ),
        rx.hstack(
            rx.button(
                "Cancel",
                type="button",
                variant="soft",
                color_scheme="gray",
                on_click=ChatState.cancel_edit,
                class_name="edit-cancel",
            ),
            rx.button("Save", type="submit", class_name="edit-save"),
            justify="end",
            spacing="2",
            margin_top="0.5rem",
        ),
        on_submit=LiveState.save_edit,
        reset_on_submit=False,
        class_name="edit-form",
        width="100%",
    )
