"""/admin: accounts (create, approve, disable, reset a password, limits) and invite links.

Every handler re-checks that the socket's user is an admin: the page hiding its buttons
is no protection against a script calling them."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from ai_chat.auth import accounts
from ai_chat.auth.accounts import AccountError
from ai_chat.auth.identity import Identity
from ai_chat.config import get_settings
from ai_chat.state import payloads
from ai_chat.state.auth import sign_out_tabs, signed_in, to_signin
from ai_chat.state.shared import Events
from ai_chat.store.users import User, UserStatus

LIMIT_FIELDS = ("messages_per_minute", "concurrent_replies", "tokens_per_day")
MAX_LIMIT = 1_000_000_000


@dataclasses.dataclass
class UserRow:
    id: str
    username: str
    status: str
    role: str
    messages_per_minute: str
    concurrent_replies: str
    tokens_per_day: str


def _row(user: User) -> UserRow:
    def text(value: int | None) -> str:
        return "" if value is None else str(value)

    return UserRow(
        id=user.id,
        username=user.username,
        status=user.status,
        role="admin" if user.is_admin else "user",
        messages_per_minute=text(user.messages_per_minute),
        concurrent_replies=text(user.concurrent_replies),
        tokens_per_day=text(user.tokens_per_day),
    )


def parse_limits(form: dict[str, Any]) -> dict[str, int | None]:
    """Blank: the server default; else a whole number from 0 (no limit) up."""
    limits: dict[str, int | None] = {}
    for name in LIMIT_FIELDS:
        raw = str(form.get(name, "")).strip().replace(",", "")
        if not raw:
            limits[name] = None
        elif raw.isdigit() and int(raw) <= MAX_LIMIT:
            limits[name] = int(raw)
        else:
            label = name.replace("_", " ")
            raise ValueError(f"{label.capitalize()} must be blank or a whole number (0: no limit).")
    return limits


class AdminState(rx.State):
    users: rx.Field[list[UserRow]] = rx.field(default_factory=list)
    invite_link: rx.Field[str] = rx.field("")
    editing_id: rx.Field[str] = rx.field("")  # the user whose password or limits are being set

    @rx.var
    def signup_mode(self) -> str:
        return get_settings().signup_mode

    async def _admin(self) -> Identity | None:
        who = await signed_in(self)
        return who if who is not None and who.is_admin else None

    async def _reload(self) -> None:
        self.users = [_row(user) for user in await accounts.list_users()]

    @rx.event
    async def load(self) -> Events:
        if await self._admin() is None:
            return [to_signin()] if await signed_in(self) is None else [rx.redirect("/")]
        await self._reload()
        return None

    @rx.event
    async def create_user(self, form_data: dict[str, Any] | None = None) -> Events:
        if (form := payloads.form(form_data)) is None:
            return payloads.malformed()
        if await self._admin() is None:
            return rx.toast.error("Only admins can do that.")
        try:
            user = await accounts.create_user(
                str(form.get("username", "")),
                str(form.get("password", "")),
                is_admin=form.get("is_admin") in (True, "on", "true"),
            )
        except AccountError as exc:
            return rx.toast.error(exc.message)
        await self._reload()
        return [
            rx.toast.success(f"Created {user.username}."),
            rx.set_value("new-username", ""),
            rx.set_value("new-password", ""),
        ]

    @rx.event
    async def set_status(self, user_id: str | None = None, status: str | None = None) -> Events:
        checked_id = payloads.entity_id(user_id)
        if checked_id is None or status not in [s.value for s in UserStatus]:
            return payloads.malformed()
        if (admin := await self._admin()) is None:
            return rx.toast.error("Only admins can do that.")
        try:
            ended = await accounts.set_status(admin.user_id, checked_id, UserStatus(status))
        except AccountError as exc:
            return rx.toast.error(exc.message)
        await sign_out_tabs(ended, "An admin disabled your account.")
        await self._reload()
        return None

    @rx.event
    def edit(self, user_id: str | None = None) -> Events:
        if (checked_id := payloads.entity_id(user_id)) is None:
            return payloads.malformed()
        self.editing_id = checked_id
        return None

    @rx.event
    def close_edit(self) -> None:
        self.editing_id = ""

    @rx.event
    async def save_user(self, form_data: dict[str, Any] | None = None) -> Events:
        """The edit dialog: the limits, and a new password if one was typed."""
        if (form := payloads.form(form_data)) is None or not self.editing_id:
            return payloads.malformed()
        if await self._admin() is None:
            return rx.toast.error("Only admins can do that.")
        try:
            limits = parse_limits(form)
        except ValueError as exc:
            return rx.toast.error(str(exc))
        try:
            await accounts.set_limits(self.editing_id, limits)
            password = str(form.get("password", ""))
            if password:
                ended = await accounts.reset_password(self.editing_id, password)
                await sign_out_tabs(ended, "An admin reset your password; sign in again.")
        except AccountError as exc:
            return rx.toast.error(exc.message)
        self.editing_id = ""
        await self._reload()
        return rx.toast.success("Saved.")

    @rx.event
    async def create_invite(self) -> Events:
        if (admin := await self._admin()) is None:
            return rx.toast.error("Only admins can do that.")
        token = await accounts.create_invite(admin.user_id)
        allowed = get_settings().allowed_origins
        origin = self.router.headers.origin if self.router.headers.origin in allowed else allowed[0]
        self.invite_link = f"{origin}/signup?invite={token}"
        return None
