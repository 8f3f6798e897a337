"""Is a request from one of the app's own pages? For the app's HTTP endpoints that change
something (sign-in, sign-out, forms): CORS only hides answers from other origins, it doesn't
stop a page on another site from POSTing a form here with the user's cookies.

The event socket is checked by engine.io itself (rxconfig.py's `cors_allowed_origins`);
this is the same rule for plain HTTP routes:

- a browser sends `Origin` with every POST (Chromium, Firefox, Safari): it must be one of
  `Settings.allowed_origins`; `Origin: null` (sandboxed frames, file:, privacy redirects) is
  refused;
- without `Origin`, an allowed `Referer` origin will do;
- with neither, it is a client that isn't a browser (curl, a script): it carries no cookies
  of a victim, so it is allowed — unless it says it comes from a browser's cross-site fetch
  (`Sec-Fetch-Site: cross-site` or `same-site`), which is refused.

Usage in a Starlette endpoint::

    if not origin_allowed(request):
        return PlainTextResponse("Cross-origin request refused", status_code=403)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ai_chat.config import get_settings, normalize_origin

# Fetch metadata values that only a browser's request from another origin carries.
_FOREIGN_FETCH_SITES = ("cross-site", "same-site")


def origin_allowed(request: Any, allowed: Iterable[str] | None = None) -> bool:
    """True when `request` (a Starlette Request or anything with `.headers`, an ASGI scope,
    a headers mapping, or `[(b"name", b"value")]` pairs) may act on the app: see the module
    doc. `allowed` defaults to `Settings.allowed_origins`."""
    headers = _headers(request)
    accepted = {
        normalize_origin(o)
        for o in (get_settings().allowed_origins if allowed is None else allowed)
    }
    accepted.discard("")
    origin = headers.get("origin")
    if origin is not None:
        return normalize_origin(origin) in accepted  # "null" normalizes to "": refused
    referer = headers.get("referer")
    if referer:
        return normalize_origin(referer) in accepted
    return headers.get("sec-fetch-site", "").strip().lower() not in _FOREIGN_FETCH_SITES


def _headers(request: Any) -> dict[str, str]:
    """Lower-cased header names to their (first) value."""
    raw = getattr(request, "headers", request)
    if isinstance(raw, Mapping) and raw.get("type") in ("http", "websocket"):
        raw = raw.get("headers")  # an ASGI scope
    if raw is None:
        return {}
    items = raw.items() if isinstance(raw, Mapping) or hasattr(raw, "items") else raw
    out: dict[str, str] = {}
    for name, value in items:
        key = (name.decode("latin-1") if isinstance(name, bytes) else str(name)).lower()
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        out.setdefault(key, text.strip())
    return out
