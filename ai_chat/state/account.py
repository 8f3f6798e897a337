"""/account: your usage, your limits, your password."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx

from ai_chat.auth import accounts
from ai_chat.auth.accounts import AccountError
from ai_chat.config import get_settings
from ai_chat.limits.user_limits import limits_for
from ai_chat.llm.catalog import Usage, cost_usd
from ai_chat.state import payloads
from ai_chat.state.auth import sign_out_tabs, signed_in, to_signin
from ai_chat.state.shared import Events
from ai_chat.state.views import format_cost
from ai_chat.store.db import run_read
from ai_chat.store.usage import ModelUsage, usage_since


@dataclasses.dataclass
class UsageRow:
    period: str
    replies: int
    tokens: str
    cost: str


def summarize(period: str, usage: list[ModelUsage], simulated: bool) -> UsageRow:
    replies = sum(u.replies for u in usage)
    tokens = sum(u.input_tokens + u.output_tokens for u in usage)
    cost = 0.0
    for u in usage:
        cost += (
            cost_usd(
                u.model,
                Usage(
                    input_tokens=u.input_tokens,
                    output_tokens=u.output_tokens,
                    cache_creation_input_tokens=u.cache_write_tokens,
                    cache_read_input_tokens=u.cache_read_tokens,
                ),
            )
            or 0.0
        )
    shown = "—" if simulated else (format_cost(cost) or "$0")
    return UsageRow(period, replies, f"{tokens:,}", shown)


def _limit_text(value: int, unit: str) -> str:
    return "no limit" if value == 0 else f"{value:,} {unit}"


class AccountState(rx.State):
    usage: rx.Field[list[UsageRow]] = rx.field(default_factory=list)
    limits: rx.Field[list[list[str]]] = rx.field(default_factory=list)

    @rx.event
    async def load(self) -> Events:
        if (who := await signed_in(self)) is None:
            return to_signin()
        now = datetime.now(UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        simulated = get_settings().use_simulator
        rows = []
        for period, since in (
            ("Today (UTC)", day),
            ("Last 30 days", now - timedelta(days=30)),
        ):
            rows.append(
                summarize(period, await run_read(usage_since, who.user_id, since), simulated)
            )
        self.usage = rows
        mine = limits_for(who)
        self.limits = [
            ["Messages per minute", _limit_text(mine.messages_per_minute, "messages")],
            ["Replies at once", _limit_text(mine.concurrent_replies, "replies")],
            ["Tokens per day", _limit_text(mine.tokens_per_day, "tokens")],
        ]
        return None

    @rx.event
    async def change_password(self, form_data: dict[str, Any] | None = None) -> Events:
        form = payloads.form(form_data)
        if form is None:
            return payloads.malformed()
        current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
        if new != again:
            return rx.toast.error("The two new passwords differ.")
        if (who := await signed_in(self)) is None:
            return to_signin()
        if get_settings().auth_mode != "password":
            return rx.toast.error("Passwords are managed by your sign-in provider.")
        try:
            ended = await accounts.change_password(who.user_id, who.session_id, current, new)
        except AccountError as exc:
            return rx.toast.error(exc.message)
        await sign_out_tabs(ended, "Your password was changed in another tab; sign in again.")
        return [
            rx.toast.success("Password changed. Your other sessions were signed out."),
            rx.set_value("current", ""),
            rx.set_value("new", ""),
            rx.set_value("again", ""),
        ]
