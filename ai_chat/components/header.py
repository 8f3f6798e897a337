"""Top bar: title, the Simulator badge, connection state, New chat."""

from __future__ import annotations

import reflex as rx

from ai_chat.components.composer import connected
from ai_chat.state.chat import ChatState


def header() -> rx.Component:
    return rx.hstack(
        rx.heading(
            rx.cond(ChatState.title != "", ChatState.title, "New chat"),
            size="4",
            class_name="chat-title",
            trim="both",
        ),
        rx.spacer(),
        rx.cond(
            ChatState.simulator,
            rx.tooltip(
                rx.badge("Simulator", color_scheme="purple", variant="solid", id="simulator-badge"),
                content="No ANTHROPIC_API_KEY: replies come from the built-in Claude simulator.",
            ),
            rx.badge(ChatState.model, color_scheme="gray", variant="soft"),
        ),
        rx.cond(
            connected,
            rx.badge("Connected", color_scheme="green", variant="soft", role="status"),
            rx.badge("Offline — reconnecting", color_scheme="red", variant="solid", role="status"),
        ),
        rx.button(
            rx.icon("plus", size=16),
            "New chat",
            variant="soft",
            aria_label="New chat",
            on_click=ChatState.new_chat,
        ),
        width="100%",
        align="center",
        padding="0.75rem 1rem",
        class_name="chat-header",
    )
