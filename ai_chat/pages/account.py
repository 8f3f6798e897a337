"""/account: usage, limits, password."""

from __future__ import annotations

import reflex as rx

from ai_chat.components.account_menu import when_signed_in
from ai_chat.components.labelled_input import labelled_input
from ai_chat.components.top_bar import top_bar
from ai_chat.state.account import AccountState, UsageRow
from ai_chat.state.auth import AuthState


def _password_field(label: str, name: str, autocomplete: str) -> rx.Component:
    return labelled_input(
        label,
        name,
        "password",
        required=True,
        id=name,
        auto_complete=autocomplete,
        max_length=1024,
    )


def _usage_row(row: UsageRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row.period),
        rx.table.cell(row.replies),
        rx.table.cell(row.tokens),
        rx.table.cell(row.cost),
    )


def account_page() -> rx.Component:
    return when_signed_in(
        rx.container(
            rx.vstack(
                top_bar("Your account"),
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
