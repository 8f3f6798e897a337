"""Whether the page is live: the one place that reads Reflex's connection-error Var, and
the one that replaces Reflex's own connection overlay.

`has_connection_errors` (reflex_components_core/core/banner.py, Reflex 0.10) is the Var
Reflex's own connection banner shows on: true while the event socket has connection errors.
It is not re-exported by `rx`. If an upgrade moves or renames it, this import fails at start
(loud, not silent); check that `rx.connection_banner` still reads the same condition.
`rx.State.is_hydrated` is public.

Reflex wraps every stateful page in an overlay (reflex/app.py `App.app_wraps`, key
`(5, "Overlay")`: `default_overlay_component`): a pulsing wifi-off icon and an error toast
"Cannot connect to server: websocket error. Check if server is reachable at …". The chat says
it once and calmly instead (`degraded_banner.offline_banner`), so `calm_overlay` puts
nothing there. If an upgrade changes the key, the icon and the toast come back (visible, not
broken): tests/e2e/test_polish_browser.py checks they are absent while offline.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

OVERLAY_WRAP = (5, "Overlay")

# Connected = the page hydrated over the live socket and no connection error since.
connected: rx.Var[bool] = rx.State.is_hydrated & ~has_connection_errors
# The socket had an error and is not back yet (False while the page first connects).
offline: rx.Var[bool] = has_connection_errors


def calm_overlay(_stateful: bool) -> Any:
    """The app wrap in Reflex's overlay slot: none (see the module's docstring)."""
    return None
