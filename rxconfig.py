"""Reflex configuration. Every setting comes from the environment via ai_chat.config."""

import reflex as rx

from ai_chat.config import get_settings

settings = get_settings()

config = rx.Config(
    app_name="ai_chat",
    db_url=settings.db_url,
    redis_url=settings.redis_url or None,
    backend_port=settings.port,
    frontend_port=settings.port,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="violet", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
