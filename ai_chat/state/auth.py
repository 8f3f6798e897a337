"""Who the tab's user is, for every handler; and the tab's view of it (name, admin, signed out).

Every handler that reads or writes a user's data starts with `await signed_in(self)`: the
user comes from the session cookie the socket's handshake carried (never from the event's
payload), re-checked on every event from a cache of a few seconds."""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.auth import identity, tabs
from ai_chat.auth.identity import Identity
from ai_chat.config import get_settings
from ai_chat.state._reflex_seam import tab_state_token

log = logging.getLogger(__name__)
SIGNIN_ROUTE = "/signin"
_app: Any = None


def bind_app(app: Any) -> None:
    """The Reflex app whose tabs `sign_out_tabs` reaches (set once by ai_chat.ai_chat)."""
    global _app
    _app = app


def session_cookie(state: rx.State) -> str:
    """The Cookie header of the socket this event came in on (a background event reads it
    inside `async with self`, then resolves it outside)."""
    headers = state.router.headers
    return headers.cookie or headers.raw_headers.get("cookie", "")


async def signed_in(state: rx.State) -> Identity | None:
    """The user of the socket this event came in on, or None."""
    return await identity.resolve(session_cookie(state))


def to_signin() -> EventSpec:
    return rx.redirect(SIGNIN_ROUTE)


class AuthState(rx.State):
    signed_in: rx.Field[bool] = rx.field(False)
    username: rx.Field[str] = rx.field("")
    is_admin: rx.Field[bool] = rx.field(False)
    notice: rx.Field[str] = rx.field("")  # why this tab was signed out

    @rx.var
    def auth_mode(self) -> str:
        return get_settings().auth_mode

    @rx.event
    async def guard(self) -> EventSpec | None:
        """on_load of every signed-in page: to the sign-in page without a user."""
        who = await signed_in(self)
        if who is None:
            self._sign_out_here("")
            return to_signin()
        self.signed_in, self.username, self.is_admin, self.notice = (
            True,
            who.username,
            who.is_admin,
            "",
        )
        await tabs.register(who.session_id, self.router.session.client_token)
        return None

    def _sign_out_here(self, notice: str) -> None:
        self.signed_in, self.username, self.is_admin, self.notice = False, "", False, notice


async def sign_out_tabs(session_ids: list[str], notice: str) -> int:
    """Tell every tab of these sessions, on any worker, that it is signed out (through
    Reflex's out-of-band state update); returns how many were told."""
    if not session_ids:
        return 0
    tokens = await tabs.tabs_of(session_ids)
    await tabs.forget(session_ids)
    if _app is None:
        return 0
    told = 0
    for token in tokens:
        try:
            async with _app.modify_state(tab_state_token(token, AuthState)) as root:
                auth = root if isinstance(root, AuthState) else await root.get_state(AuthState)
                auth._sign_out_here(notice)
            told += 1
        except Exception:
            log.debug("tab %s not signed out", token, exc_info=True)
    return told
