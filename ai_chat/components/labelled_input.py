"""A text field with its visible label around it: the label names the field for screen
readers with no id to keep in step, and a click on the label focuses the field."""

from __future__ import annotations

from typing import Any, Literal

import reflex as rx

# The input types the app's forms use.
InputKind = Literal["text", "password"]


def labelled_input(
    label: str, name: str, kind: InputKind = "text", *, required: bool = False, **props: Any
) -> rx.Component:
    """`kind` is the input's type ("text", "password" …); `props` go to the input element
    (id, auto_complete, max_length, inputmode …)."""
    return rx.el.label(
        rx.text(label, size="2", weight="medium"),
        rx.el.input(name=name, type=kind, required=required, class_name="auth-input", **props),
        class_name="auth-field",
    )
