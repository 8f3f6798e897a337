"""The sign-in, first-admin and sign-up pages: what they show (the forms post to /_auth/*)."""

from __future__ import annotations

import reflex as rx
from reflex_base.event import EventSpec

from ai_chat.auth import accounts
from ai_chat.auth.accounts import MESSAGES
from ai_chat.config import get_settings
from ai_chat.state.auth import signed_in

NOTICES = {
    "signed_out": "You signed out.",
    "pending": "Your account was created. An admin must approve it before you can sign in.",
}


def _query(state: rx.State, name: str) -> str:
    value = (state.router_data.get("query") or {}).get(name, "")
    return value if isinstance(value, str) else ""


class SigninState(rx.State):
    # The page knows which form to show (no form swaps under the typing)
    ready: rx.Field[bool] = rx.field(False)
    setup: rx.Field[bool] = rx.field(False)  # a fresh install: the form creates the admin
    error: rx.Field[str] = rx.field("")
    notice: rx.Field[str] = rx.field("")
    invite: rx.Field[str] = rx.field("")

    @rx.var
    def signup_open(self) -> bool:
        return get_settings().signup_mode != "closed"

    @rx.var
    def auth_mode(self) -> str:
        return get_settings().auth_mode

    @rx.event
    async def load(self) -> EventSpec | None:
        """on_load of /signin and /signup: a signed-in visitor goes to the chat."""
        if get_settings().auth_mode != "password" or await signed_in(self) is not None:
            return rx.redirect("/")
        self.setup = await accounts.setup_needed()
        code = _query(self, "error")
        self.error = MESSAGES.get(code, "That didn't work. Please try again.") if code else ""
        if code == "throttled" and (wait := _query(self, "wait")).isdigit():
            self.error = f"Too many failed sign-ins. Try again in {int(wait):,} s."
        self.notice = NOTICES.get(_query(self, "notice"), "")
        invite = _query(self, "invite")
        self.invite = invite if len(invite) <= 128 else ""
        self.ready = True
        return None
