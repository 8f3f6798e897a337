"""The top bar of the pages around the chat (/account, /admin): back to the chats, the
page's heading, the account menu; the offline notice under it when the connection drops."""

from __future__ import annotations

import reflex as rx

from ai_chat.components.account_menu import account_menu
from ai_chat.components.degraded_banner import offline_banner


def top_bar(title: str) -> rx.Component:
    return rx.fragment(
        rx.hstack(
            rx.link("← Chats", href="/", size="2"),
            rx.heading(title, size="6", as_="h1"),
            rx.spacer(),
            account_menu(),
            width="100%",
            align="center",
            spacing="4",
            # A phone: the account menu goes under the heading rather than off-screen.
            wrap="wrap",
            row_gap="0.5rem",
        ),
        offline_banner(),
    )
