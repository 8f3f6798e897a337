"""/admin: the accounts of this install."""

from __future__ import annotations

import reflex as rx

from ai_chat.components.account_menu import when_signed_in
from ai_chat.components.labelled_input import labelled_input
from ai_chat.components.top_bar import top_bar
from ai_chat.state.admin import AdminState, UserRow
from ai_chat.state.shared import event_of


def _status_button(user: UserRow) -> rx.Component:
    component = rx.match(
        user.status,
        (
            "pending",
            rx.button(
                "Approve", size="1", on_click=event_of(AdminState.set_status, user.id, "active")
            ),
        ),
        (
            "disabled",
            rx.button(
                "Enable", size="1", on_click=event_of(AdminState.set_status, user.id, "active")
            ),
        ),
        rx.button(
            "Disable",
            size="1",
            color_scheme="red",
            variant="soft",
            on_click=event_of(AdminState.set_status, user.id, "disabled"),
        ),
    )
    assert isinstance(component, rx.Component)  # every branch is a component
    return component


def _user_row(user: UserRow) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(user.username),
        rx.table.cell(user.role),
        rx.table.cell(user.status),
        rx.table.cell(
            rx.hstack(
                _status_button(user),
                rx.button(
                    "Edit", size="1", variant="soft", on_click=event_of(AdminState.edit, user.id)
                ),
                spacing="2",
            )
        ),
        aria_label=user.username,
    )


def _edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Limits and password"),
            rx.dialog.description("Blank limits use the server's defaults; 0 means no limit."),
            rx.form(
                rx.vstack(
                    labelled_input(
                        "Messages per minute", "messages_per_minute", inputmode="numeric"
                    ),
                    labelled_input("Replies at once", "concurrent_replies", inputmode="numeric"),
                    labelled_input("Tokens per day", "tokens_per_day", inputmode="numeric"),
                    labelled_input(
                        "New password (leave blank to keep)",
                        "password",
                        "password",
                        auto_complete="new-password",
                    ),
                    rx.hstack(
                        rx.button(
                            "Cancel",
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            on_click=AdminState.close_edit,
                        ),
                        rx.button("Save", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                ),
                on_submit=AdminState.save_user,
            ),
        ),
        open=AdminState.editing_id != "",
        on_open_change=lambda _open: event_of(AdminState.close_edit),
    )


def admin_page() -> rx.Component:
    return when_signed_in(
        rx.container(
            rx.vstack(
                top_bar("Admin"),
                rx.heading("Users", size="4", as_="h2"),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Username"),
                            rx.table.column_header_cell("Role"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Actions"),
                        )
                    ),
                    rx.table.body(rx.foreach(AdminState.users, _user_row)),
                    width="100%",
                ),
                rx.heading("Create a user", size="4", as_="h2"),
                rx.form(
                    rx.hstack(
                        labelled_input(
                            "Username",
                            "username",
                            required=True,
                            id="new-username",
                            auto_complete="off",
                        ),
                        labelled_input(
                            "Password",
                            "password",
                            "password",
                            required=True,
                            id="new-password",
                            auto_complete="new-password",
                        ),
                        rx.el.label(
                            rx.checkbox(name="is_admin"), " Admin", class_name="auth-check"
                        ),
                        rx.button("Create user", type="submit"),
                        align="end",
                        wrap="wrap",
                        spacing="3",
                    ),
                    on_submit=AdminState.create_user,
                ),
                rx.heading("Invite links", size="4", as_="h2"),
                rx.text(
                    "Sign-up is ",
                    rx.text.strong(AdminState.signup_mode),
                    ". An invite link creates one account and expires in 7 days.",
                    size="2",
                ),
                rx.button("Create invite link", variant="soft", on_click=AdminState.create_invite),
                rx.cond(
                    AdminState.invite_link != "",
                    rx.code(AdminState.invite_link, id="invite-link"),
                ),
                _edit_dialog(),
                spacing="4",
                padding_y="2rem",
            ),
            size="3",
        )
    )
