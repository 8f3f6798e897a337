"""The one place that reaches into httpx's and httpcore's private attributes.

httpx has no public way to give the httpcore connection pools under a client another network
backend: `AsyncHTTPTransport` builds its pool itself. What this module relies on:

- `httpx2.AsyncClient._transport` (the default transport) and `._mounts` (proxy mounts, URL
  pattern -> transport, or None where proxying is switched off);
- `httpx2.AsyncHTTPTransport._pool`: an `httpcore2.AsyncConnectionPool` (the proxy pools are
  subclasses of it);
- `httpcore2.AsyncConnectionPool._network_backend`: read whenever the pool opens a connection.

If any of them moves, `pools_under` or `set_network_backend` raises `PoolsMoved` naming the one
that did: the app must not run on a backend other than the one it was configured for without
saying so. `AI_CHAT_OWN_NETWORK=0` runs on httpx's stock transport meanwhile.
"""

from __future__ import annotations

import httpcore2
import httpx2

_STOCK_HINT = "set AI_CHAT_OWN_NETWORK=0 to run on httpx's stock transport"


class PoolsMoved(RuntimeError):
    """An httpx/httpcore internal this module relies on is no longer where it was."""


def pools_under(client: httpx2.AsyncClient) -> list[httpcore2.AsyncConnectionPool]:
    """The connection pool of the client's default transport and of each proxy mount."""
    try:
        transports = [client._transport, *client._mounts.values()]
    except AttributeError as exc:
        raise PoolsMoved(
            f"httpx2.AsyncClient has no `_transport`/`_mounts` any more ({exc}); {_STOCK_HINT}"
        ) from exc
    pools = []
    for transport in transports:
        if transport is None:
            continue
        pool = getattr(transport, "_pool", None)
        if not isinstance(pool, httpcore2.AsyncConnectionPool):
            raise PoolsMoved(
                f"{type(transport).__name__}._pool is {type(pool).__name__}, not an "
                f"httpcore2.AsyncConnectionPool; {_STOCK_HINT}"
            )
        pools.append(pool)
    if not pools:
        raise PoolsMoved(f"no connection pool under the httpx client; {_STOCK_HINT}")
    return pools


def set_network_backend(
    pool: httpcore2.AsyncConnectionPool, backend: httpcore2.AsyncNetworkBackend
) -> None:
    """The backend the pool opens its connections with from now on."""
    current = getattr(pool, "_network_backend", None)
    if not isinstance(current, httpcore2.AsyncNetworkBackend):
        # Setting the attribute would succeed and change nothing: fail instead.
        raise PoolsMoved(
            f"{type(pool).__name__}._network_backend is {type(current).__name__}, not an "
            f"httpcore2.AsyncNetworkBackend; {_STOCK_HINT}"
        )
    pool._network_backend = backend
