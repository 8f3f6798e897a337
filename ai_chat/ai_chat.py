"""The Reflex app: pages, styles, and the built-in simulator when there is no API key."""

from __future__ import annotations

import reflex as rx
from starlette.applications import Starlette
from starlette.routing import Mount

from ai_chat.config import SIMULATOR_MOUNT, get_settings
from ai_chat.gc_tuning import tune_for_serving
from ai_chat.generation import runtime
from ai_chat.pages.chat import chat_page
from ai_chat.socket_emits import use_direct_emits
from ai_chat.state.chat import ChatState
from ai_chat.state.sidebar import SidebarState
from ai_chat.store import models  # noqa: F401 - registers the tables for `reflex db`


def _api() -> Starlette | None:
    if not get_settings().use_simulator:
        return None
    from ai_chat.simulator.app import create_app

    return Starlette(routes=[Mount(SIMULATOR_MOUNT, app=create_app())])


app = rx.App(
    stylesheets=["/chat.css"],
    # Top of the page: at the bottom, toasts cover the Send/Stop button.
    toaster=rx.toast.provider(position="top-center", close_button=True),
    api_transformer=_api(),
)
# A push sends from its own task (python-socketio would spawn and await one per packet).
assert app.sio is not None  # the app has state, so Reflex made its Socket.IO server
use_direct_emits(app.sio)
app.register_lifespan_task(runtime.build_clients)
app.register_lifespan_task(tune_for_serving)
ON_LOAD = [ChatState.load_route, SidebarState.refresh]
app.add_page(chat_page, route="/", title="ai_chat", on_load=ON_LOAD)
app.add_page(chat_page, route="/c/[cid]", title="ai_chat", on_load=ON_LOAD)
