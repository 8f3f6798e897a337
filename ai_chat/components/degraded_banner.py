"""The degraded-service banner (this worker can't reach Redis) and the offline one (the
page's live connection dropped)."""

from __future__ import annotations

import reflex as rx

from ai_chat.components._connection_seam import offline
from ai_chat.state.auth import AuthState
from ai_chat.state.service_status import DEGRADED_MESSAGE, ServiceStatusState

BANNER_ID = "degraded-banner"
OFFLINE_BANNER_ID = "offline-banner"
OFFLINE_MESSAGE = "Reconnecting…"


def degraded_banner() -> rx.Component:
    # role=alert: screen readers announce it when it appears.
    return rx.cond(
        ServiceStatusState.redis_down,
        rx.callout(
            DEGRADED_MESSAGE,
            icon="triangle_alert",
            color_scheme="amber",
            high_contrast=True,  # amber text on amber is under WCAG AA's 4.5:1 otherwise
            role="alert",
            id=BANNER_ID,
            size="1",
        ),
    )


def degraded_banner_before_sign_in() -> rx.Component:
    """For a page that can't load its state (it opened while Redis was down): it shows
    nothing else until then."""
    return rx.cond(~AuthState.signed_in, rx.box(degraded_banner(), padding="1rem"))


def offline_banner() -> rx.Component:
    """The one notice of a dropped connection (Send waits meanwhile); role=status: said
    politely, once."""
    return rx.cond(
        offline,
        rx.callout(
            OFFLINE_MESSAGE,
            icon="wifi_off",
            color_scheme="gray",
            high_contrast=True,
            role="status",
            id=OFFLINE_BANNER_ID,
            size="1",
            class_name="offline-banner",
        ),
    )
