"""Top bar: title, the Simulator badge, connection state, export, theme."""

from __future__ import annotations

import reflex as rx

from ai_chat.components._connection_seam import connected
from ai_chat.components._typed_reflex import choose, color_mode_button, icon
from ai_chat.components.account_menu import account_menu
from ai_chat.state.chat import ChatState
from ai_chat.state.settings import SettingsState
from ai_chat.state.shared import event_of
from ai_chat.state.sidebar import SidebarState


def _export_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                icon("download", size=16), variant="ghost", aria_label="Export conversation"
            )
        ),
        rx.menu.content(
            rx.menu.item("Export as Markdown", on_click=event_of(ChatState.export, "md")),
            rx.menu.item("Export as JSON", on_click=event_of(ChatState.export, "json")),
        ),
    )


def header() -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            icon("panel-left", size=16),
            variant="ghost",
            aria_label="Show conversations",
            on_click=SidebarState.toggle_mobile,
            class_name="sidebar-toggle",
        ),
        rx.heading(
            choose(ChatState.title != "", ChatState.title, "New chat"),
            size="4",
            class_name="chat-title",
            as_="h1",
        ),
        rx.spacer(),
        rx.cond(
            ChatState.simulator,
            rx.tooltip(
                rx.badge("Simulator", color_scheme="purple", variant="solid", id="simulator-badge"),
                content="No ANTHROPIC_API_KEY: replies come from the built-in Claude simulator.",
            ),
        ),
        rx.badge(ChatState.model, color_scheme="gray", variant="soft", class_name="model-badge"),
        rx.cond(
            ChatState.total_cost != "",
            rx.tooltip(
                rx.badge(ChatState.total_cost, color_scheme="gray", variant="outline"),
                content="Estimated cost of this conversation (≈: includes stopped replies).",
            ),
        ),
        rx.cond(
            connected,
            rx.badge(
                "Connected", color_scheme="green", variant="soft", role="status", high_contrast=True
            ),
            rx.badge("Offline — reconnecting", color_scheme="red", variant="solid", role="status"),
        ),
        rx.icon_button(
            icon("sliders-horizontal", size=16),
            variant="ghost",
            aria_label="Conversation settings",
            on_click=SettingsState.open_dialog,
        ),
        rx.cond(ChatState.conversation_id != "", _export_menu()),
        color_mode_button(aria_label="Toggle dark mode", variant="ghost"),
        account_menu(),
        width="100%",
        align="center",
        padding="0.75rem 1rem",
        class_name="chat-header",
    )
