"""Forms that post to the app's HTTP endpoints (/_auth/*) as plain HTML forms."""

from __future__ import annotations

import reflex as rx


def native_post(action: str) -> dict:
    """Props that make a form post to `action` as a plain HTML form. Reflex's form
    always handles submit itself (preventDefault); after the browser has checked the
    fields, `form.submit()` sends it natively (it fires no second submit event)."""
    form_id = "form" + action.replace("/", "-")
    return {
        "id": form_id,
        "method": "post",
        "action": action,
        "on_submit": rx.call_script(f"document.getElementById('{form_id}').submit()"),
    }
