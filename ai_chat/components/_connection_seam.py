"""Whether the page is live: the one place that reads Reflex's connection-error Var.

`has_connection_errors` (reflex_components_core/core/banner.py, Reflex 0.10) is the Var
Reflex's own connection banner shows on: true while the event socket has connection errors.
It is not re-exported by `rx`. If an upgrade moves or renames it, this import fails at start
(loud, not silent); check that `rx.connection_banner` still reads the same condition.
`rx.State.is_hydrated` is public.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

# Connected = the page hydrated over the live socket and no connection error since.
connected: rx.Var[bool] = rx.State.is_hydrated & ~has_connection_errors
