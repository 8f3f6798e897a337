"""The conversation settings dialog: system prompt, output limit, thinking (the model is
picked beside the message box)."""

from __future__ import annotations

import reflex as rx

from ai_chat.components.composer import field_error, limited_field_attrs
from ai_chat.config import get_settings
from ai_chat.state.settings import SettingsState

PROMPT_ERROR_ID = "system-prompt-error"


def _field(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium", as_="label"),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        spacing="1",
        width="100%",
    )


def settings_dialog(max_prompt_chars: int | None = None) -> rx.Component:
    """`max_prompt_chars`: the longest system prompt (AI_CHAT_MAX_SYSTEM_PROMPT_CHARS by
    default), checked in the browser before saving; parse_settings checks it again."""
    limit = get_settings().max_system_prompt_chars if max_prompt_chars is None else max_prompt_chars
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Conversation settings"),
            rx.form(
                rx.vstack(
                    # The model is picked beside the message box (components/model_picker.py).
                    rx.text(
                        "Model: ",
                        rx.text.strong(SettingsState.picker_label),
                        " (change it beside the message box)",
                        size="2",
                    ),
                    _field(
                        "System prompt",
                        rx.text_area(
                            name="system_prompt",
                            default_value=SettingsState.system_prompt,
                            aria_label="System prompt",
                            rows="4",
                            width="100%",
                            custom_attrs=limited_field_attrs(
                                limit, "The system prompt", "save", PROMPT_ERROR_ID
                            ),
                        ),
                        "Sent unchanged with every turn (so Claude's prompt cache keeps working).",
                    ),
                    field_error(PROMPT_ERROR_ID),
                    rx.hstack(
                        _field(
                            "Max output tokens",
                            rx.input(
                                name="max_output_tokens",
                                default_value=SettingsState.max_output_tokens,
                                aria_label="Max output tokens",
                                placeholder="default",
                                type="number",
                                min="1",
                            ),
                        ),
                        width="100%",
                    ),
                    rx.hstack(
                        rx.checkbox(
                            "Extended thinking",
                            name="thinking",
                            checked=SettingsState.thinking,
                            on_change=SettingsState.toggle_thinking,
                        ),
                        rx.input(
                            name="thinking_budget",
                            default_value=SettingsState.thinking_budget,
                            aria_label="Thinking budget (tokens)",
                            placeholder="budget: 8192",
                            type="number",
                            min="1024",
                            # Only meaningful with thinking on (a disabled field isn't sent).
                            disabled=~SettingsState.thinking,
                        ),
                        align="center",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Save", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=SettingsState.save,
            ),
        ),
        open=SettingsState.open,
        on_open_change=SettingsState.close,
    )
