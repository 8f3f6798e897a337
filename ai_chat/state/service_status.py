"""Whether the service is degraded (Redis unreachable), for the banner.

The tab's own state lives in Redis, so while Redis is down no event of the tab can change
it: each worker pushes this var straight to the sockets it holds (`reflex_redis.py`), which
needs no Redis. The server's copy stays False; nothing but those pushes sets it, and it has
no event handlers.
"""

from __future__ import annotations

import reflex as rx

DEGRADED_MESSAGE = (
    "The service is degraded: the server lost its session store (Redis). Replies in progress "
    "are being finished and saved; sending may fail until it is back. This page recovers by "
    "itself when it is."
)


class ServiceStatusState(rx.State):
    redis_down: rx.Field[bool] = rx.field(False)
