"""Top bar: title, the Simulator badge, model and cost, settings, export, theme, account.

On narrow screens (CSS: `.header-actions` hidden, `.header-more` shown) the actions move into
one "More actions" menu, so the title keeps the rest of the width and every button stays on
screen.
"""

from __future__ import annotations

import reflex as rx

from ai_chat.components._typed_reflex import choose, color_mode_button, icon
from ai_chat.components.account_menu import SIGN_OUT_FORM_ID, account_menu
from ai_chat.state.auth import AuthState
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


def _cost_badge() -> rx.Component:
    return rx.cond(
        ChatState.total_cost != "",
        rx.tooltip(
            rx.badge(ChatState.total_cost, color_scheme="gray", variant="outline"),
            content="Estimated cost of this conversation (≈: includes stopped replies).",
        ),
    )


def _wide_actions() -> rx.Component:
    return rx.hstack(
        rx.badge(ChatState.model, color_scheme="gray", variant="soft", class_name="model-badge"),
        _cost_badge(),
        rx.icon_button(
            icon("sliders-horizontal", size=16),
            variant="ghost",
            aria_label="Conversation settings",
            on_click=SettingsState.open_dialog,
        ),
        rx.cond(ChatState.conversation_id != "", _export_menu()),
        color_mode_button(aria_label="Toggle dark mode", variant="ghost"),
        account_menu(),
        align="center",
        class_name="header-actions",
    )


def _menu_note(*children: rx.Component | rx.Var[str] | str) -> rx.Component:
    """A line of text in a menu, not an item (no role, not focusable)."""
    return rx.text(*children, size="1", color_scheme="gray", class_name="menu-note")


def _account_items() -> rx.Component:
    return rx.cond(
        AuthState.auth_mode == "none",
        _menu_note("No sign-in · this machine only"),
        rx.fragment(
            rx.menu.item(
                icon("user", size=16),
                AuthState.username,
                " (your account)",
                on_click=rx.redirect("/account"),
            ),
            rx.cond(
                AuthState.is_admin,
                rx.menu.item(icon("shield", size=16), "Admin", on_click=rx.redirect("/admin")),
            ),
            rx.cond(
                AuthState.auth_mode == "password",
                # Submits the header's sign-out form (a native post: the endpoint clears the
                # HttpOnly cookie), which stays in the page while its row is hidden.
                rx.menu.item(
                    rx.el.button(
                        icon("log-out", size=16),
                        "Sign out",
                        type="submit",
                        form=SIGN_OUT_FORM_ID,
                        class_name="menu-submit",
                    ),
                    as_child=True,
                ),
            ),
        ),
    )


def _more_menu() -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.icon_button(
                icon("ellipsis-vertical", size=18),
                variant="ghost",
                aria_label="More actions",
                class_name="header-more",
            )
        ),
        rx.menu.content(
            _menu_note(
                ChatState.model,
                choose(ChatState.total_cost != "", " · " + ChatState.total_cost, ""),
            ),
            rx.menu.item(
                icon("sliders-horizontal", size=16),
                "Conversation settings",
                on_click=SettingsState.open_dialog,
            ),
            rx.cond(
                ChatState.conversation_id != "",
                rx.fragment(
                    rx.menu.item(
                        icon("download", size=16),
                        "Export as Markdown",
                        on_click=event_of(ChatState.export, "md"),
                    ),
                    rx.menu.item(
                        icon("download", size=16),
                        "Export as JSON",
                        on_click=event_of(ChatState.export, "json"),
                    ),
                ),
            ),
            rx.menu.item(
                rx.color_mode_cond(light=icon("moon", size=16), dark=icon("sun", size=16)),
                rx.color_mode_cond(light="Dark theme", dark="Light theme"),
                on_click=rx.toggle_color_mode,
            ),
            rx.menu.separator(),
            _account_items(),
            align="end",
        ),
        # Not modal: a modal menu hides the page (aria-hidden) around its focusable controls.
        modal=False,
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
        rx.cond(
            ChatState.simulator,
            rx.tooltip(
                rx.badge("Simulator", color_scheme="purple", variant="solid", id="simulator-badge"),
                content="No ANTHROPIC_API_KEY: replies come from the built-in Claude simulator.",
            ),
        ),
        _wide_actions(),
        _more_menu(),
        width="100%",
        align="center",
        padding="0.75rem 1rem",
        class_name="chat-header",
    )
