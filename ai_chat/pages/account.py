"""/account: usage, limits, password."""

from __future__ import annotations

import reflex as rx

from ai_chat.components.account_menu import account_menu, when_signed_in
from ai_chat.state.account import AccountState, UsageRow
from ai_chat.state.auth import AuthState


def _password_field(label: str, name: str, autocomplete: str) -> rx.Component:
    return rx.el.label(
        rx.text(label, size="2", weight="medium"),
        rx.el.input(
            name=name,
            id=name,
            type="password",
            required=True,
            auto_complete=autocomplete,
            class_name="auth-input",
            max_length=1024,
        ),
        class_name="auth-field",
    )


def _usage_row(row: UsageRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.period),
        rx.table.cell(row.replies),
        rx.table.cell(row.tokens),
        rx.table.cell(row.cost),
    )


def _top_bar(title: str) -> rx.Component:
    return rx.hstack(
        rx.link("← Chats", href="/", size="2"),
        rx.heading(title, size="6", as_="h1"),
        rx.spacer(),
        account_menu(),
        width="100%",
        align="center",
        spacing="4",
    )


def account_page() -> rx.Component:
    return when_signed_in(
        rx.container(
            rx.vstack(
                _top_bar("Your account"),
                rx.text("Signed in as ", rx.text.strong(AuthState.username)),
                rx.heading("Usage", size="4", as_="h2"),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Period"),
                            rx.table.column_header_cell("Replies"),
                            rx.table.column_header_cell("Tokens"),
                            rx.table.column_header_cell("Cost"),
                        )
                    ),
                    rx.table.body(rx.foreach(AccountState.usage, _usage_row)),
                ),
                rx.heading("Your limits", size="4", as_="h2"),
                rx.foreach(AccountState.limits, lambda item: rx.text(item[0], ": ", item[1])),
                rx.cond(
                    AuthState.auth_mode == "password",
                    rx.vstack(
                        rx.heading("Change password", size="4", as_="h2"),
                        rx.form(
                            rx.vstack(
                                _password_field("Current password", "current", "current-password"),
                                _password_field("New password", "new", "new-password"),
                                _password_field("New password again", "again", "new-password"),
                                rx.button("Change password", type="submit"),
                            ),
                            on_submit=AccountState.change_password,
                        ),
                    ),
                ),
                spacing="4",
                padding_y="2rem",
            ),
            size="2",
        )
    )
