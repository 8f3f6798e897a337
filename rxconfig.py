"""Reflex configuration. Every setting comes from the environment via ai_chat.config."""

import os

import reflex as rx

from ai_chat.config import get_settings

settings = get_settings()

# Tab state is a cache of the database. One worker keeps it in memory: Reflex's default
# "disk" mode also pickles every tab to .states/ and re-stats every file there on each
# write cycle, which took 12 % of a worker's CPU at 300 streaming tabs. Several workers
# share it through Redis.
state_manager_mode = (
    rx.constants.StateManagerMode.REDIS
    if settings.redis_url
    else rx.constants.StateManagerMode.MEMORY
)

if settings.redis_url:
    # Reflex's opportunistic lock keeps a tab's state on the worker that streams to it and
    # writes it back when another worker asks: ~2 Redis commands per second per streaming
    # reply instead of ~4 per push (80/s). Measured in docs/PERFORMANCE.md; set it to 0 to
    # turn it off.
    os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "1")

config = rx.Config(
    app_name="ai_chat",
    db_url=settings.db_url,
    redis_url=settings.redis_url or None,
    state_manager_mode=state_manager_mode,
    backend_port=settings.port,
    frontend_port=settings.port,
    # AI_CHAT_HOST (default 0.0.0.0); with AI_CHAT_AUTH=none always 127.0.0.1: no accounts,
    # so only this machine may reach it.
    backend_host=settings.host,
    # Only the app's own pages may open the event socket (engine.io checks the handshake's
    # Origin) or read HTTP answers (Reflex's CORS middleware); the default "*" let any web
    # page drive the app. AI_CHAT_ALLOWED_ORIGINS, default http://localhost|127.0.0.1:<port>.
    cors_allowed_origins=list(settings.allowed_origins),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="violet", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
