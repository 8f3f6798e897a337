"""The top bar of the pages around the chat (/account, /admin): back to the chats, the
page's heading, the account menu."""

from __future__ import annotations

import reflex as rx

from ai_chat.components.account_menu import account_menu


def top_bar(title: str) -> rx.Component:
    return rx.hstack(
        rx.link("← Chats", href="/", size="2"),
        rx.heading(title, size="6", as_="h1"),
        rx.spacer(),
        account_menu(),
        width="100%",
        align="center",
        spacing="4",
    )
