"""Per-conversation settings: model, system prompt, output limit and thinking budget.

No temperature: API version 2026-10-21, which SDK 2.x sends, rejects temperature/top_p/top_k
with a 400 (even at default values), so the setting would only break requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from ai_chat.config import get_settings
from ai_chat.llm.catalog import MODELS, model_info
from ai_chat.state import payloads
from ai_chat.state.auth import signed_in, to_signin
from ai_chat.state.chat import ChatState
from ai_chat.state.shared import Events, model_label
from ai_chat.store import conversations as store
from ai_chat.store.db import read_scope, session_scope
from ai_chat.store.text import clean_text

MIN_THINKING_BUDGET = 1024


class SettingsError(ValueError):
    """A setting a person typed that we can't use; the message says why."""


def parse_settings(form: dict[str, Any]) -> dict[str, Any]:
    """Form fields → conversation columns, validated against the model table."""
    model = str(form.get("model") or get_settings().model)
    info = model_info(model)
    if info is None and model != get_settings().model:
        raise SettingsError(f"Unknown model {model!r}.")
    limit = info.max_output if info else 128_000

    def number(name: str, cast: Callable[[str], int], low: int, high: int) -> int | None:
        raw = str(form.get(name, "")).strip()
        if not raw:
            return None
        try:
            value = cast(raw)
        except ValueError as exc:
            raise SettingsError(f"{name.replace('_', ' ').capitalize()} must be a number.") from exc
        if not low <= value <= high:
            raise SettingsError(
                f"{name.replace('_', ' ').capitalize()} must be between {low} and {high}."
            )
        return value

    thinking = str(form.get("thinking", "")).lower() in ("on", "true", "1")
    # Byte-stable: stored exactly as typed (trailing spaces trimmed; a lone surrogate or NUL,
    # which no database stores, cleaned: store/text.py), no timestamps. Never cut silently.
    system_prompt = clean_text(str(form.get("system_prompt", ""))).rstrip()
    prompt_limit = get_settings().max_system_prompt_chars
    if len(system_prompt) > prompt_limit:
        raise SettingsError(
            f"The system prompt is {len(system_prompt):,} characters; the limit is "
            f"{prompt_limit:,}. Shorten it and save again (your text is still in the box)."
        )
    return {
        "model": model,
        "system_prompt": system_prompt,
        "max_output_tokens": number("max_output_tokens", int, 1, limit),
        "thinking_budget": (
            number("thinking_budget", int, MIN_THINKING_BUDGET, limit) or 8192
            if thinking and (info is None or info.thinking)
            else None
        ),
    }


class SettingsState(rx.State):
    open: rx.Field[bool] = rx.field(False)
    model: rx.Field[str] = rx.field("")
    system_prompt: rx.Field[str] = rx.field("")
    max_output_tokens: rx.Field[str] = rx.field("")
    thinking: rx.Field[bool] = rx.field(False)
    thinking_budget: rx.Field[str] = rx.field("")
    # For a chat not created yet: applied when its first message creates it.
    _pending: dict[str, Any] = {}

    @rx.var
    def model_options(self) -> list[list[str]]:
        return [
            [
                m.id,
                f"{m.label} · {m.context_window // 1000:,}K context · "
                f"${m.input_per_mtok:g}/${m.output_per_mtok:g} per MTok",
            ]
            for m in MODELS
        ]

    def _show(self, values: dict[str, Any]) -> None:
        self.model = values.get("model") or get_settings().model
        self.system_prompt = values.get("system_prompt") or ""
        self.max_output_tokens = _text(values.get("max_output_tokens"))
        self.thinking = bool(values.get("thinking_budget"))
        self.thinking_budget = _text(values.get("thinking_budget"))

    @rx.event
    async def open_dialog(self) -> Events:
        if (who := await signed_in(self)) is None:
            return to_signin()
        chat = await self.get_state(ChatState)
        values = self._pending
        if chat.conversation_id:
            try:
                async with read_scope() as session:
                    conv = await store.require_conversation(
                        session, who.user_id, chat.conversation_id
                    )
            except store.ConversationNotFound:
                return rx.toast.error("That conversation no longer exists.")
            values = {k: getattr(conv, k) for k in store.SETTING_FIELDS}
        self._show(values)
        self.open = True
        return None

    @rx.event
    def close(self) -> None:
        self.open = False

    @rx.event
    async def save(self, form: dict[str, Any] | None = None) -> Events:
        if (checked := payloads.form(form)) is None:
            return payloads.malformed()
        try:
            values = parse_settings(checked)
        except SettingsError as exc:
            return rx.toast.error(str(exc))
        if (who := await signed_in(self)) is None:
            return to_signin()
        chat = await self.get_state(ChatState)
        if chat.conversation_id:
            try:
                async with session_scope() as session:
                    await store.update_settings(session, who.user_id, chat.conversation_id, values)
            except store.ConversationNotFound:
                return rx.toast.error("That conversation no longer exists.")
        else:
            self._pending = values
        chat.model_label = model_label(values["model"])
        self.open = False
        return rx.toast.success("Settings saved for this conversation.")

    def _take_pending(self) -> dict[str, Any]:
        pending, self._pending = self._pending, {}
        return pending


def _text(value: object) -> str:
    return "" if value is None else str(value)
