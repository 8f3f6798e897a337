"""Per-conversation settings: model, system prompt, output limit and thinking budget.

The model is picked beside the message box; the rest in the settings dialog. A user's last
choices (model, output limit, thinking) are saved to their account (app_user.default_*) and
are the settings of their next new chat, on any device.

No temperature: API version 2026-10-21, which SDK 2.x sends, rejects temperature/top_p/top_k
with a 400 (even at default values), so the setting would only break requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import reflex as rx

from ai_chat.config import get_settings
from ai_chat.llm.catalog import MODELS, ModelInfo, model_info
from ai_chat.state import payloads
from ai_chat.state.auth import signed_in, to_signin
from ai_chat.state.chat import ChatState
from ai_chat.state.shared import Events, model_label
from ai_chat.store import conversations as store
from ai_chat.store import users
from ai_chat.store.db import read_scope, run_read, run_write, session_scope
from ai_chat.store.text import clean_text

log = logging.getLogger(__name__)
MIN_THINKING_BUDGET = 1024
DEFAULT_THINKING_BUDGET = 8192
# What a user's defaults hold: the settings a new chat starts with (not the system prompt).
DEFAULT_FIELDS = ("model", "max_output_tokens", "thinking_budget")


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
            number("thinking_budget", int, MIN_THINKING_BUDGET, limit) or DEFAULT_THINKING_BUDGET
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
    # The model of the next reply, shown by the picker beside the message box.
    picker_model: rx.Field[str] = rx.field("")
    # For a chat not created yet: applied when its first message creates it.
    _pending: dict[str, Any] = {}
    # A user with no account row (AI_CHAT_AUTH=none): their last choices, kept in this tab.
    _unstored: dict[str, Any] = {}

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

    @rx.var
    def picker_options(self) -> list[list[str]]:
        """The picker's choices: the catalog, and the open conversation's model if it is
        one the catalog no longer lists (shown, not offered to others)."""
        options = [[m.id, m.label] for m in MODELS]
        if self.picker_model and model_info(self.picker_model) is None:
            options.append([self.picker_model, self.picker_model])
        return options

    @rx.var
    def picker_label(self) -> str:
        info = model_info(self.picker_model)
        return info.label if info else self.picker_model

    def _show(self, values: dict[str, Any]) -> None:
        self.model = values.get("model") or get_settings().model
        self.system_prompt = values.get("system_prompt") or ""
        self.max_output_tokens = _text(values.get("max_output_tokens"))
        self.thinking = bool(values.get("thinking_budget"))
        self.thinking_budget = _text(values.get("thinking_budget"))

    @rx.event
    async def load_choices(self) -> Events:
        """on_load, after the route's conversation is loaded: the picker shows its model; a
        new chat (`/`) starts with the user's last choices."""
        chat = await self.get_state(ChatState)
        if chat.conversation_id:
            self.picker_model = _model_id(chat.model)
            return None
        if (who := await signed_in(self)) is None:
            return None
        try:
            stored = await run_read(users.get_defaults, who.user_id) or self._unstored
        except Exception:  # noqa: BLE001 - the server defaults then; the chat still works
            stored = {}
        self._pending = valid_defaults(stored)
        self.picker_model = self._pending.get("model") or get_settings().model
        chat.model_label = model_label(self.picker_model)
        return None

    @rx.event
    async def choose_model(self, model: str | None = None) -> Events:
        """The picker beside the message box: the model of this conversation's next reply
        (of a new chat's first), and the user's default from now on."""
        if not isinstance(model, str) or len(model) > 200:
            return payloads.malformed()
        info = model_info(model)
        if info is None and model != get_settings().model:
            return rx.toast.error(f"Unknown model {model[:80]!r}.")
        if (who := await signed_in(self)) is None:
            return to_signin()
        chat = await self.get_state(ChatState)
        if chat.conversation_id:
            try:
                async with session_scope() as session:
                    conv = await store.require_conversation(
                        session, who.user_id, chat.conversation_id
                    )
                    current = {k: getattr(conv, k) for k in store.SETTING_FIELDS}
                    changed = fit_to_model({**current, "model": model}, info)
                    await store.update_settings(session, who.user_id, conv.id, changed)
            except store.ConversationNotFound:
                return rx.toast.error("That conversation no longer exists.")
        else:
            changed = fit_to_model({**self._pending, "model": model}, info)
            self._pending = changed
        await self._save_defaults(who.user_id, changed)
        self.picker_model = model
        chat.model_label = model_label(model)
        return None

    @rx.event
    def toggle_thinking(self, on: bool | None = None) -> Events:
        """The dialog's Extended thinking box: its budget field is enabled only while on."""
        if not isinstance(on, bool):
            return payloads.malformed()
        self.thinking = on
        return None

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
        if "model" not in checked:  # the dialog leaves the model to the picker
            checked["model"] = self.picker_model or self.model or get_settings().model
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
        await self._save_defaults(who.user_id, values)
        chat.model_label = model_label(values["model"])
        self.picker_model = values["model"]
        self.open = False
        return rx.toast.success("Settings saved for this conversation and your new chats.")

    async def _save_defaults(self, user_id: str, values: dict[str, Any]) -> None:
        """The user's choices become their defaults; a failure only loses that (logged)."""
        chosen = {k: values.get(k) for k in DEFAULT_FIELDS}
        try:
            if not await run_write(users.save_defaults, user_id, chosen):
                self._unstored = chosen
        except Exception:  # the conversation's own settings are saved all the same
            log.warning("could not save the defaults of user %s", user_id, exc_info=True)

    def _take_pending(self) -> dict[str, Any]:
        """A new chat's settings, for its first turn. Kept: a refused first turn sent again
        (its text comes back to the box) gets them too; the next page load replaces them."""
        return dict(self._pending)


def valid_defaults(stored: dict[str, object]) -> dict[str, Any]:
    """A user's stored defaults as a new chat's settings, each checked as the dialog checks
    it (a model since removed from the catalog, or a limit it no longer allows, is left out:
    the server default applies)."""
    model = stored.get("model")
    server_model = get_settings().model
    if not isinstance(model, str) or (model_info(model) is None and model != server_model):
        model = None
    info = model_info(model or server_model)
    limit = info.max_output if info else 128_000
    tokens, budget = stored.get("max_output_tokens"), stored.get("thinking_budget")
    values: dict[str, Any] = {"model": model} if model else {}
    if isinstance(tokens, int) and 1 <= tokens <= limit:
        values["max_output_tokens"] = tokens
    if isinstance(budget, int) and MIN_THINKING_BUDGET <= budget <= limit:
        if info is None or info.thinking:
            values["thinking_budget"] = budget
    return values


def fit_to_model(values: dict[str, Any], info: ModelInfo | None) -> dict[str, Any]:
    """`values` with the output limit and thinking budget brought within the model's (a
    smaller model would refuse the request)."""
    if info is None:
        return values
    fitted = dict(values)
    for name in ("max_output_tokens", "thinking_budget"):
        value = fitted.get(name)
        if isinstance(value, int) and value > info.max_output:
            fitted[name] = info.max_output
    if not info.thinking:
        fitted["thinking_budget"] = None
    return fitted


def _model_id(label: str) -> str:
    """The id of the model the header shows by `label` (an unknown model shows its id)."""
    return next((m.id for m in MODELS if m.label == label), label) or get_settings().model


def _text(value: object) -> str:
    return "" if value is None else str(value)
