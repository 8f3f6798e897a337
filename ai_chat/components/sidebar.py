"""Conversation list: search, open, rename, delete (with confirmation), load more."""

from __future__ import annotations

import reflex as rx

from ai_chat.components._typed_reflex import choose, event_handler, icon
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.state.shared import event_of
from ai_chat.state.sidebar import ConversationItem, SidebarState


def _item(item: ConversationItem) -> rx.Component:
    active = item.id == ChatState.conversation_id
    return rx.hstack(
        rx.link(
            item.title,
            href="/c/" + item.id,
            class_name="conv-link",
            aria_current=choose(active, "page", None),
            title=item.title,
            # rx.link's default hover colour (accent 8) is too pale on the hovered row.
            _hover={"color": "var(--gray-12)"},
        ),
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    icon("ellipsis", size=14),
                    variant="ghost",
                    size="1",
                    aria_label="Actions for " + item.title,
                ),
            ),
            rx.menu.content(
                rx.menu.item(
                    "Rename", on_click=event_of(SidebarState.open_rename, item.id, item.title)
                ),
                rx.menu.item(
                    "Delete",
                    color="red",
                    on_click=event_of(SidebarState.open_delete, item.id, item.title),
                ),
            ),
        ),
        class_name=choose(active, "conv-item conv-item-active", "conv-item"),
        data_conversation=item.id,
        align="center",
        width="100%",
    )


def _rename_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename conversation"),
            rx.form(
                rx.input(
                    name="title",
                    default_value=SidebarState.rename_title,
                    aria_label="New title",
                    max_length=200,
                    auto_focus=True,
                    # assets/chat_polish.js selects the title as the field gets focus.
                    custom_attrs={"data-select-on-focus": "true"},
                ),
                rx.hstack(
                    rx.dialog.close(
                        rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                    ),
                    rx.button("Save", type="submit"),
                    justify="end",
                    margin_top="1rem",
                ),
                on_submit=SidebarState.save_rename,
            ),
        ),
        open=SidebarState.rename_id != "",
        on_open_change=SidebarState.close_dialogs,
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete conversation?"),
            rx.alert_dialog.description(
                "“",
                SidebarState.delete_title,
                "” and all its messages will be deleted. This can't be undone.",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=LiveState.confirm_delete)
                ),
                justify="end",
                margin_top="1rem",
            ),
        ),
        open=SidebarState.delete_id != "",
        on_open_change=SidebarState.close_dialogs,
    )


def sidebar() -> rx.Component:
    return rx.el.nav(
        # Stays at the top while the list scrolls under it (CSS: position sticky).
        rx.box(
            rx.icon_button(
                icon("x", size=16),
                variant="ghost",
                aria_label="Hide conversations",
                on_click=SidebarState.toggle_mobile,
                class_name="sidebar-close",
            ),
            rx.button(
                icon("square-pen", size=16),
                "New chat",
                on_click=ChatState.new_chat,
                aria_label="New chat",
                title="New chat (Ctrl+Shift+O)",
                width="100%",
                variant="soft",
            ),
            rx.input(
                placeholder="Search conversations",
                aria_label="Search conversations",
                type="search",
                on_change=event_handler(SidebarState.search).debounce(250),
                width="100%",
            ),
            class_name="sidebar-top",
        ),
        rx.vstack(
            rx.foreach(SidebarState.items, _item),
            rx.cond(
                SidebarState.has_more,
                rx.button("Load more", variant="ghost", on_click=SidebarState.load_more),
            ),
            rx.cond(
                SidebarState.items.length() == 0,
                rx.text(
                    choose(SidebarState.query != "", "No matches.", "No conversations yet."),
                    size="2",
                    color_scheme="gray",
                ),
            ),
            class_name="conv-list",
            spacing="1",
            width="100%",
        ),
        _rename_dialog(),
        _delete_dialog(),
        class_name="sidebar",
        aria_label="Conversations",
    )
