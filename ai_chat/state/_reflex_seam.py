"""The one place the states reach past Reflex's public API.

1. Its proxies' `__wrapped__`.

Reflex wraps state for change tracking, with wrapt `ObjectProxy` subclasses
(reflex/istate/proxy.py):

- a background task's `self` is a `StateProxy`; inside `async with self` its `__wrapped__`
  is the tab's state itself, loaded and locked for the block. Working on it directly is what
  an ordinary handler does; through the proxy, every read and write runs the proxy's checks
  (and a turn's end touches some twenty vars).
- a list var read on a state is a `MutableProxy`, and so is every item read from it (each
  wrapped on the way out). `plain_list` reads the items without wrapping them; it must only
  be read, never changed in place (a change would not be seen, so never pushed).

Both hold while Reflex keeps these proxies as wrapt proxies whose writes are tracked by the
state's own fields (rx.Field sets mark the var dirty on the state, not on the proxy). The
setting `state_proxy_bypass` (`AI_CHAT_STATE_PROXY_BYPASS=0`, or `AI_CHAT_STOCK=1`) turns
both off: the proxies are used as Reflex hands them out (the stock path, tested as well).

2. The token naming a tab's state outside an event (`reflex.istate.manager.token`), for
`App.modify_state`: how a tab is told it was signed out (state/auth.py). No stock
alternative: Reflex 0.10 takes nothing else there.
"""

from __future__ import annotations

from typing import TypeVar

from reflex.istate.manager.token import BaseStateToken
from reflex.state import BaseState

from ai_chat.config import get_settings

S = TypeVar("S")
T = TypeVar("T")


def bypass_on() -> bool:
    """Whether the states work past Reflex's proxies (the default) or through them."""
    return get_settings().state_proxy_bypass


def unproxied(state: S) -> S:
    """Inside `async with state` of a background task: the tab's state the proxy holds
    (itself when it is not a proxy, or when the bypass is off)."""
    if not bypass_on():
        return state
    inner: S = getattr(state, "__wrapped__", state)
    return inner


def plain_list(items: list[T]) -> list[T]:
    """A list var's items as stored, for reading only (see the module docstring)."""
    if not bypass_on():
        return items
    inner: list[T] = getattr(items, "__wrapped__", items)
    return inner


def tab_state_token(client_token: str, state_cls: type[BaseState]) -> BaseStateToken:
    """What `App.modify_state` takes to reach `state_cls` of the tab `client_token`."""
    return BaseStateToken(ident=client_token, cls=state_cls)
