"""The chat page, served at `/` (new chat) and `/c/<id>` (a stored conversation)."""

from __future__ import annotations

import reflex as rx

from ai_chat.components._typed_reflex import choose, icon
from ai_chat.components.account_menu import when_signed_in
from ai_chat.components.composer import composer
from ai_chat.components.degraded_banner import (
    degraded_banner,
    degraded_banner_before_sign_in,
    offline_banner,
)
from ai_chat.components.header import header
from ai_chat.components.message import history_bubble, live_bubble, new_bubble
from ai_chat.components.page_script import page_script
from ai_chat.components.settings import settings_dialog
from ai_chat.components.sidebar import sidebar
from ai_chat.components.suggestions import suggestions
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.sidebar import SidebarState

CHAT_ROUTE = "/[[c]]/[[cid]]"  # `/` and `/c/<id>` on one route (ai_chat.py)
# Esc closes the narrow list, the rename field selects its text, the live reply's open
# emphasis is closed for display (components/_markdown_seam.py).
POLISH_SCRIPT_ASSET = "chat_polish.js"


def _empty_hint() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("How can Claude help?", size="6", as_="h2"),  # h1: the chat's title
            rx.text("Your conversation is saved as you go.", color_scheme="gray"),
            suggestions(),
            align="center",
        ),
        min_height="40vh",
    )


def chat_page() -> rx.Component:
    return rx.fragment(when_signed_in(_chat()), degraded_banner_before_sign_in())


def _chat() -> rx.Component:
    return rx.box(
        rx.box(
            sidebar(),
            settings_dialog(),
            class_name=choose(SidebarState.mobile_open, "sidebar-wrap open", "sidebar-wrap"),
        ),
        # Narrow screens: the list slides over the chat; a tap beside it closes it (Esc too:
        # assets/chat_polish.js).
        rx.cond(
            SidebarState.mobile_open,
            rx.box(
                class_name="sidebar-backdrop",
                on_click=SidebarState.toggle_mobile,
                aria_hidden="true",
            ),
        ),
        rx.el.main(
            header(),
            degraded_banner(),
            offline_banner(),
            # The list and "Jump to latest" share a box that ends above the message box:
            # the button floats over the list's bottom, never over the box, whatever its height.
            rx.box(
                rx.box(
                    rx.cond(
                        (ChatState.messages.length() == 0)
                        & (ChatState.new_messages.length() == 0)
                        & ~LiveState.shows_live,
                        _empty_hint(),
                    ),
                    rx.foreach(ChatState.messages, history_bubble),
                    rx.foreach(ChatState.new_messages, new_bubble),
                    rx.cond(LiveState.shows_live, live_bubble()),
                    class_name="messages",
                    id="messages",
                    role="log",
                    aria_label="Conversation",
                ),
                rx.button(
                    icon("arrow-down", size=14),
                    "Jump to latest",
                    id="jump-latest",
                    class_name="jump-latest",
                    type="button",
                    size="1",
                    variant="surface",
                    radius="full",
                ),
                class_name="messages-wrap",
            ),
            rx.box(composer(), class_name="composer-bar"),
            class_name="chat-main",
        ),
        rx.box(
            LiveState.announcement,
            aria_live="polite",
            role="status",
            id="announcer",
            class_name="sr-only",
        ),
        # Clicked by assets/chat_page.js when the live reply stalls or the page is shown again.
        rx.el.button(
            id="live-check",
            type="button",
            hidden=True,
            aria_hidden="true",
            tab_index=-1,
            on_click=LiveState.check_live,
        ),
        page_script(),
        rx.script(src=rx.asset(POLISH_SCRIPT_ASSET)),
        class_name="chat-page",
        data_generating=(LiveState.generating | LiveState.shows_live).to_string(),
    )
