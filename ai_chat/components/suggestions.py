"""Suggestions on the empty screen: a click puts the prompt in the message box (focused,
not sent), so it can be changed first."""

from __future__ import annotations

import reflex as rx

from ai_chat.state.shared import COMPOSER_ID

SUGGESTIONS: tuple[tuple[str, str], ...] = (
    ("Explain a concept", "Explain how public-key cryptography works, with a simple analogy."),
    ("Write code", "Write a Python function that removes duplicates from a list, keeping order."),
    ("Plan something", "Help me plan a relaxed three-day weekend in Lisbon."),
    ("Improve a text", "Make this email clearer and friendlier:\n\n"),
)


def _suggestion(label: str, prompt: str) -> rx.Component:
    return rx.el.button(
        rx.text(label, weight="medium", size="2"),
        rx.text(prompt.strip(), size="1", color_scheme="gray", class_name="suggestion-text"),
        type="button",
        class_name="suggestion",
        data_prompt=prompt,
        # Client-side only: the text goes into the box, nothing reaches the server.
        on_click=[rx.set_value(COMPOSER_ID, prompt), rx.set_focus(COMPOSER_ID)],
    )


def suggestions() -> rx.Component:
    return rx.el.div(
        *(_suggestion(label, prompt) for label, prompt in SUGGESTIONS),
        class_name="suggestions",
        role="group",
        aria_label="Suggestions",
    )
