"""The HTTP endpoints that set and clear the session cookie (a socket can't set one).

Plain HTML form posts, answered with a redirect: they work without JavaScript and leave
the token in an HttpOnly cookie only. A POST from another site is refused (Origin check),
and failed sign-ins are throttled per account and per address.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ai_chat.auth import accounts, identity
from ai_chat.auth.accounts import AccountError
from ai_chat.config import get_settings
from ai_chat.origins import origin_allowed

log = logging.getLogger(__name__)
PREFIX = "/_auth"
COOKIE_MAX_AGE_S = 400 * 86400  # browsers' cap: the server's expiry is what counts
MAX_FORM_BYTES = 16_384


def _redirect(path: str, **query: str | int) -> RedirectResponse:
    suffix = f"?{urlencode(query)}" if query else ""
    return RedirectResponse(path + suffix, status_code=303)


def _signed_in(token: str) -> Response:
    response = _redirect("/")
    response.set_cookie(
        identity.SESSION_COOKIE,
        token,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
        path="/",
    )
    return response


async def _form(request: Request) -> dict[str, str]:
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return {}
    form = await request.form(max_files=0, max_fields=10)
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _refused(request: Request) -> Response | None:
    if get_settings().auth_mode != "password":
        return _redirect("/")
    if not origin_allowed(request.headers):
        return _redirect("/signin", error="origin")
    return None


async def setup(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    form = await _form(request)
    try:
        token = await accounts.create_first_admin(
            form.get("username", ""), form.get("password", "")
        )
    except AccountError as exc:
        return _redirect("/signin", error=exc.code)
    return _signed_in(token)


async def sign_in(request: Request) -> Response:
    from ai_chat.auth.throttle import signin_blocked, signin_failed, signin_succeeded

    if (refused := _refused(request)) is not None:
        return refused
    form = await _form(request)
    username, address = form.get("username", "")[:64], _address(request)
    if (wait_s := await signin_blocked(username, address)) is not None:
        return _redirect("/signin", error="throttled", wait=max(1, round(wait_s)))
    try:
        token = await accounts.sign_in(username, form.get("password", ""))
    except AccountError as exc:
        if exc.code == "credentials":
            await signin_failed(username, address)
        return _redirect("/signin", error=exc.code)
    await signin_succeeded(username, address)
    return _signed_in(token)


async def sign_up(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    form = await _form(request)
    invite = form.get("invite", "")[:128]
    try:
        token = await accounts.sign_up(
            form.get("username", ""), form.get("password", ""), invite=invite
        )
    except AccountError as exc:
        query = {"error": exc.code, **({"invite": invite} if invite else {})}
        return _redirect("/signup", **query)
    if token is None:
        return _redirect("/signin", notice="pending")
    return _signed_in(token)


async def sign_out(request: Request) -> Response:
    from ai_chat.state.auth import sign_out_tabs

    if not origin_allowed(request.headers):
        return _redirect("/")
    token = identity.cookie_value(request.headers.get("cookie", ""), identity.SESSION_COOKIE)
    if token and len(token) <= 256:
        ended = await accounts.sign_out(token)
        await sign_out_tabs(ended, "You signed out.")
    response = _redirect("/signin", notice="signed_out")
    response.delete_cookie(identity.SESSION_COOKIE, path="/")
    return response


def routes() -> list[Route]:
    return [
        Route(f"{PREFIX}/setup", setup, methods=["POST"]),
        Route(f"{PREFIX}/signin", sign_in, methods=["POST"]),
        Route(f"{PREFIX}/signup", sign_up, methods=["POST"]),
        Route(f"{PREFIX}/signout", sign_out, methods=["POST"]),
    ]
