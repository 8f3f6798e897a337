"""/signin (and the first admin's account on a fresh install) and /signup.

Native HTML forms posting to /_auth/*: the session cookie is set by the HTTP answer,
HttpOnly, so page JavaScript never sees the token."""

from __future__ import annotations

import reflex as rx

from ai_chat.components._typed_reflex import choose
from ai_chat.components.labelled_input import InputKind, labelled_input
from ai_chat.components.native_form import native_post
from ai_chat.state.signin import SigninState


def _messages() -> rx.Component:
    return rx.fragment(
        rx.cond(
            SigninState.error != "",
            rx.callout(SigninState.error, color_scheme="red", role="alert", icon="triangle-alert"),
        ),
        rx.cond(
            SigninState.notice != "",
            rx.callout(SigninState.notice, color_scheme="green", role="status", icon="info"),
        ),
    )


def _card(
    title: str,
    intro: rx.Component | rx.Var[str] | str,
    form: rx.Component,
    footer: rx.Component | None = None,
) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading(title, size="6", as_="h1"),
                rx.text(intro, color_scheme="gray", size="2"),
                _messages(),
                form,
                footer or rx.fragment(),
                spacing="4",
                width="100%",
            ),
            class_name="auth-card",
        ),
        class_name="auth-page",
    )


def _form(action: str, button: str, new_password: bool, *extra: rx.Component) -> rx.Component:
    return native_post(
        action,
        _credential("Username", "username", "text", "username"),
        _credential(
            "Password",
            "password",
            "password",
            "new-password" if new_password else "current-password",
        ),
        *extra,
        rx.button(button, type="submit", size="3", width="100%"),
        class_name="auth-form",
    )


def _credential(label: str, name: str, kind: InputKind, autocomplete: str) -> rx.Component:
    return labelled_input(
        label, name, kind, required=True, auto_complete=autocomplete, max_length=1024
    )


def signin_page() -> rx.Component:
    return rx.cond(SigninState.ready, _signin_or_setup())


def _signin_or_setup() -> rx.Component:
    return rx.cond(
        SigninState.setup,
        _card(
            "Create the admin account",
            "This is a new install. The account you create now manages who else can sign in.",
            _form("/_auth/setup", "Create account", True),
        ),
        _card(
            "Sign in",
            "Sign in to your conversations.",
            _form("/_auth/signin", "Sign in", False),
            rx.cond(
                SigninState.signup_open,
                rx.link("No account? Create one", href="/signup", size="2"),
            ),
        ),
    )


def signup_page() -> rx.Component:
    return rx.cond(SigninState.ready, _signup())


def _signup() -> rx.Component:
    return _card(
        "Create an account",
        choose(
            SigninState.invite != "",
            "You were invited. Choose a username and a password.",
            choose(
                SigninState.signup_open,
                "Choose a username and a password.",
                "Sign-up is closed here: ask an admin for an account or an invite link.",
            ),
        ),
        _form(
            "/_auth/signup",
            "Create account",
            True,
            rx.el.input(type="hidden", name="invite", value=SigninState.invite),
        ),
        rx.link("Already have an account? Sign in", href="/signin", size="2"),
    )
