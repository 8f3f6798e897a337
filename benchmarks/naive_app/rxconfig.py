"""Reflex config of the naive baseline (served like the app: `reflex run --env prod`)."""

import os

import reflex as rx

config = rx.Config(
    app_name="naive_app",
    db_url=os.environ.get("AI_CHAT_DB_URL", "sqlite:///naive.db"),
    backend_port=int(os.environ.get("AI_CHAT_PORT", "8000")),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
