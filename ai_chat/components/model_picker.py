"""The model picker beside the message box: the next reply's model, and the user's default
for new chats (SettingsState.choose_model validates and saves it)."""

from __future__ import annotations

import reflex as rx

from ai_chat.state.settings import SettingsState


def model_picker() -> rx.Component:
    return rx.el.select(
        rx.foreach(
            SettingsState.picker_options,
            lambda option: rx.el.option(option[1], value=option[0]),
        ),
        value=SettingsState.picker_model,
        on_change=SettingsState.choose_model,
        aria_label="Model",
        title="The model of the next reply (and of your new chats)",
        class_name="model-picker",
    )
