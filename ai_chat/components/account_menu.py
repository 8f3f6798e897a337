"""The signed-in user's menu (account, admin, sign out) and the signed-out notice."""

from __future__ import annotations

import reflex as rx

from ai_chat.components.native_form import native_post
from ai_chat.state.auth import AuthState

SIGN_OUT_ACTION = "/_auth/signout"
SIGN_OUT_FORM_ID = "form" + SIGN_OUT_ACTION.replace("/", "-")  # native_post's id for it


def sign_out_form() -> rx.Component:
    """A form post: the endpoint ends the session and clears the HttpOnly cookie."""
    return native_post(
        SIGN_OUT_ACTION,
        rx.button("Sign out", type="submit", variant="soft", color_scheme="gray", size="2"),
    )


def account_menu() -> rx.Component:
    return rx.cond(
        AuthState.auth_mode == "none",
        rx.tooltip(
            rx.badge("No sign-in · this machine only", color_scheme="amber", variant="soft"),
            content="AI_CHAT_AUTH=none: the app listens on 127.0.0.1 only.",
        ),
        rx.hstack(
            # The name must contain the visible text (WCAG 2.5.3; axe label-content-name-mismatch).
            rx.link(
                AuthState.username,
                rx.el.span(" (your account)", class_name="sr-only"),
                href="/account",
                size="2",
            ),
            rx.cond(AuthState.is_admin, rx.link("Admin", href="/admin", size="2")),
            rx.cond(AuthState.auth_mode == "password", sign_out_form()),
            align="center",
            spacing="3",
            class_name="account-menu",
        ),
    )


def signed_out_notice() -> rx.Component:
    """Shown over a page whose session ended (signed out in another tab, disabled, …)."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("You're signed out", size="5", as_="h1"),
                rx.cond(AuthState.notice != "", rx.text(AuthState.notice)),
                rx.link(rx.button("Sign in", size="3"), href="/signin"),
                spacing="3",
                align="center",
            ),
            role="alertdialog",
            aria_label="Signed out",
        ),
        class_name="signed-out",
    )


def when_signed_in(page: rx.Component) -> rx.Component:
    return rx.cond(
        AuthState.signed_in,
        page,
        rx.cond(AuthState.notice != "", signed_out_notice()),
    )
