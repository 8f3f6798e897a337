"""Typed spellings of Reflex helpers whose 0.10 stubs mypy misreads.

Each one calls the stock helper unchanged; only its type is put right:

- `rx.icon`: reflex/__init__.pyi does `from reflex_components_lucide import icon`, and that
  package also has a submodule `icon`, so mypy sees a module ("Module not callable").
  `icon` here calls `Icon.create`, which is what `rx.icon` is.
- `rx.cond` with values (not components): in reflex_components_core/core/cond.py a TypeVar
  assignment sits between the overloads, so mypy sees only the three component overloads.
  `choose` is `rx.cond` for values.
- `rx.color_mode.button`: the stub assigns `color_mode` twice (a Var, then the namespace),
  mypy keeps the Var.
- a `@rx.event` handler read from its state class (`State.search.debounce(…)`): mypy types
  it as `EventNamespace`; `event_handler` checks and returns it as the `rx.EventHandler` it
  is. Calling a handler with arguments goes through `state.shared.event_of`.

On a Reflex upgrade: delete a helper here once mypy accepts the stock spelling.
"""

from __future__ import annotations

from typing import Any, TypeVar

import reflex as rx
from reflex_components_lucide.icon import Icon

T = TypeVar("T")


def icon(name: str, size: int | None = None, **props: Any) -> rx.Component:
    """rx.icon(name, size=…): a Lucide icon."""
    if size is not None:
        props["size"] = size
    return Icon.create(name, **props)


def choose(
    condition: rx.Var[bool] | bool, if_true: T | rx.Var[T], if_false: T | rx.Var[T]
) -> rx.Var[T]:
    """rx.cond(condition, if_true, if_false) for values: a Var the browser evaluates."""
    chosen: rx.Var[T] = rx.cond(condition, if_true, if_false)  # type: ignore[call-overload]
    return chosen


def color_mode_button(**props: Any) -> rx.Component:
    """rx.color_mode.button(**props): the light/dark toggle."""
    button: rx.Component = rx.color_mode.button(**props)  # type: ignore[attr-defined]
    return button


def event_handler(handler: object) -> rx.EventHandler:
    """`State.handler` as what it is at run time, an `rx.EventHandler` (for `.debounce` and the
    other event actions): mypy reads a `@rx.event` handler as an `EventNamespace` (its
    `__new__` returns another type, which mypy does not follow)."""
    if not isinstance(handler, rx.EventHandler):
        raise TypeError(f"not an event handler: {handler!r}")
    return handler
