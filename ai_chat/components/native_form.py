"""Forms that post to the app's HTTP endpoints (/_auth/*) as plain HTML forms.

Reflex's own form (rx.el.form / rx.form) always handles submit in React and cancels the
browser's submission, so it can't post natively. This is the plain `<form>` element instead:
no submit handler, so the browser checks the fields (`required`, `maxlength`) and then posts
the form itself, and the HTTP answer (a redirect that sets the HttpOnly session cookie) is
a real page load. No JavaScript is involved.
"""

from __future__ import annotations

from typing import Any

import reflex as rx


class _PlainForm(rx.el.Div):
    """A `<form>` with Reflex's plain element rendering (the Div class is only a carrier for
    the element's common props: id, class_name, style …)."""

    tag = "form"

    action: rx.Var[str]
    method: rx.Var[str]


def native_post(action: str, *children: rx.Component, **props: Any) -> rx.Component:
    """A form that posts its fields to `action` natively; `props` go to the form element."""
    return _PlainForm.create(
        *children, id="form" + action.replace("/", "-"), method="post", action=action, **props
    )
