"""What reaches the event socket: only the headers Reflex needs, and the proxy's word.

Reflex copies the socket handshake's headers into `router.headers`, which is pushed to page
JavaScript (it leaves out only `cookie` and known credential headers). So for `/_event`
every header outside an allowlist is dropped here, whatever a proxy adds. In proxy mode the
trusted header (only from a configured proxy address) becomes a cookie, which Reflex never
pushes; a copy of that cookie sent by anyone else is removed on every request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from ai_chat.auth.identity import PROXY_COOKIE
from ai_chat.config import get_settings

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

EVENT_PATH = "/_event"
SOCKET_HEADERS = frozenset(
    {
        b"host",
        b"origin",
        b"cookie",
        b"user-agent",
        b"accept",
        b"accept-language",
        b"accept-encoding",
        b"connection",
        b"upgrade",
        b"cache-control",
        b"pragma",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"x-forwarded-for",  # read by Reflex's trusted_proxy_hops
    }
)


def _without_proxy_cookie(value: bytes) -> bytes:
    parts = [p for p in value.split(b";") if p.strip().partition(b"=")[0] != PROXY_COOKIE.encode()]
    return b";".join(parts).strip()


def guarded_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    settings = get_settings()
    headers: list[tuple[bytes, bytes]] = []
    proxy_user = ""
    for name, value in scope.get("headers", []):
        lower = name.lower()
        if lower == settings.proxy_user_header.encode():
            client = scope.get("client") or ("", 0)
            if settings.auth_mode == "proxy" and client[0] in settings.proxy_addresses:
                proxy_user = value.decode("latin-1").strip()
            continue
        if lower == b"cookie":
            value = _without_proxy_cookie(value)
            if not value:
                continue
        if scope.get("path", "").startswith(EVENT_PATH) and lower not in SOCKET_HEADERS:
            continue
        headers.append((lower, value))
    if proxy_user and len(proxy_user) <= 64:
        cookie = f"{PROXY_COOKIE}={quote(proxy_user.lower(), safe='')}".encode()
        existing = [i for i, (n, _) in enumerate(headers) if n == b"cookie"]
        if existing:
            i = existing[0]
            headers[i] = (b"cookie", headers[i][1] + b"; " + cookie)
        else:
            headers.append((b"cookie", cookie))
    return headers


def guard(app: ASGIApp) -> ASGIApp:
    async def guarded(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope)
            scope["headers"] = guarded_headers(scope)
        await app(scope, receive, send)

    return guarded
