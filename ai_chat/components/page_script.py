"""The chat page's browser-side script (assets/chat_page.js): keyboard, scrolling, length
limits, live-reply checks and "Copy code", all without a server round trip.

Reflex copies assets/ into the frontend and serves it at the site root, in development and
in the production build alike; `rx.asset` checks the file is there and adds a content
version to the URL, so a changed script is never served from a stale cache.
"""

from __future__ import annotations

import reflex as rx

PAGE_SCRIPT_ASSET = "chat_page.js"
ATTACHMENTS_SCRIPT_ASSET = "attachments.js"  # picker, drop, paste and uploads


def page_script() -> rx.Component:
    """The script tag, placed in the page's head by Reflex (react-helmet). The script wires
    itself once per page load, however often the page mounts it."""
    return rx.fragment(
        rx.script(src=rx.asset(PAGE_SCRIPT_ASSET)),
        rx.script(src=rx.asset(ATTACHMENTS_SCRIPT_ASSET)),
    )
