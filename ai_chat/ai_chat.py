"""The Reflex app: pages, styles, the sign-in endpoints, and the built-in simulator when
there is no API key."""

from __future__ import annotations

import reflex as rx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount

from ai_chat import reflex_redis
from ai_chat.auth import http as auth_http
from ai_chat.auth.asgi import guard
from ai_chat.components import _connection_seam
from ai_chat.config import SIMULATOR_MOUNT, get_settings
from ai_chat.files import http as files_http
from ai_chat.gc_tuning import tune_for_serving
from ai_chat.generation import runtime
from ai_chat.ops import http as ops_http
from ai_chat.pages.account import account_page
from ai_chat.pages.admin import admin_page
from ai_chat.pages.chat import CHAT_ROUTE, chat_page
from ai_chat.pages.signin import signin_page, signup_page
from ai_chat.socket_emits import use_direct_emits
from ai_chat.state import auth
from ai_chat.state.account import AccountState
from ai_chat.state.admin import AdminState
from ai_chat.state.auth import AuthState
from ai_chat.state.live import LiveState
from ai_chat.state.settings import SettingsState
from ai_chat.state.sidebar import SidebarState
from ai_chat.state.signin import SigninState
from ai_chat.store import models  # noqa: F401 - registers the tables for `reflex db`


def _api() -> Starlette:
    routes: list[BaseRoute] = [*auth_http.routes(), *ops_http.routes()]  # + /health, /metrics
    routes += files_http.routes()  # /_files: attachments
    settings = get_settings()
    if settings.use_simulator and not settings.simulator_url:  # not started by ai_chat.serve
        from ai_chat.simulator.app import create_app

        # The Messages API only: the standalone simulator's records (every prompt) and
        # control routes would be public on the app's port.
        routes.append(Mount(SIMULATOR_MOUNT, app=create_app(api_only=True)))
    elif settings.use_simulator:  # in its own process: nothing of it on the app's port
        routes.append(Mount(SIMULATOR_MOUNT, app=PlainTextResponse("Not Found", 404)))
    return Starlette(routes=routes)


app = rx.App(
    stylesheets=["/chat.css"],
    # Top of the page: at the bottom, toasts cover the Send/Stop button.
    toaster=rx.toast.provider(position="top-center", close_button=True),
    # Our routes, then the guard around everything (the event socket included).
    api_transformer=[_api(), guard],
    # Redis unreachable: a plain "service degraded" toast rather than "An error occurred".
    backend_exception_handler=reflex_redis.backend_exception_handler,
)
# Connection loss: one calm banner (components/_connection_seam.py), no icon, no toast.
app.app_wraps[_connection_seam.OVERLAY_WRAP] = _connection_seam.calm_overlay
if get_settings().direct_emits:
    # A push sends from its own task (python-socketio would spawn and await one per packet).
    assert app.sio is not None  # the app has state, so Reflex made its Socket.IO server
    use_direct_emits(app.sio)
app.register_lifespan_task(runtime.build_clients)
if get_settings().gc_tuning:
    app.register_lifespan_task(tune_for_serving)
app.register_lifespan_task(runtime.durable_replies)  # sweeper; SIGTERM: drain replies
app.register_lifespan_task(reflex_redis.watch)  # Redis outages: banner, listeners
auth.bind_app(app)
# SettingsState.load_choices after load_route: the picker shows the conversation it loaded.
ON_LOAD = [AuthState.guard, LiveState.load_route, SidebarState.refresh, SettingsState.load_choices]
# One route for `/` (a new chat) and `/c/<id>`: a new conversation gets its URL by a real
# (replace) navigation, which stays on this page, so the router, and the route a reconnect
# sends, always match the address bar (state/live.py `_give_url`). Other paths: load_route.
app.add_page(chat_page, route=CHAT_ROUTE, title="ai_chat", on_load=ON_LOAD)
app.add_page(signin_page, route="/signin", title="Sign in · ai_chat", on_load=SigninState.load)
app.add_page(signup_page, route="/signup", title="Sign up · ai_chat", on_load=SigninState.load)
app.add_page(
    account_page,
    route="/account",
    title="Account · ai_chat",
    on_load=[AuthState.guard, AccountState.load],
)
app.add_page(
    admin_page, route="/admin", title="Admin · ai_chat", on_load=[AuthState.guard, AdminState.load]
)
