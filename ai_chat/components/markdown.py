"""Markdown for untrusted text (model output): rich, but nothing in it can run or phone home.

What react-markdown 10.1 already does (.web/node_modules/react-markdown/lib/index.js):
- without rehype-raw (``use_raw=False``) an HTML node becomes a *text* node: ``<script>``
  shows as text;
- ``defaultUrlTransform`` blanks every URL (href, src, …) whose scheme is not http(s), mailto,
  irc(s) or xmpp, so ``javascript:``/``data:``/``vbscript:`` links arrive here as ``href=""``.
What this module adds:
- links: only absolute http(s)/mailto become ``<a>`` (new tab, ``rel="noopener noreferrer
  nofollow"``); anything else (relative, or the blanked ``href=""`` that would reload the
  page) is plain text;
- images are never loaded (a prompt-injected image URL could carry data out): an ``<img>``
  becomes a text placeholder with the alt text and the URL;
- fenced code keeps rx.code_block's highlighting, gets a client-side "Copy code" button and a
  label with its language;
- the reply still streaming closes its open emphasis for display (`live_markdown_or_plain`).
A reply nested too deeply to render (markdown_depth.py) is shown by `plain_text` instead.
GFM (tables, lists, strikethrough, task lists) and LaTeX (remark-math + rehype-katex, KaTeX's
``trust`` off, so ``\\href``/``\\includegraphics`` are refused) come with rx.markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from ai_chat.components import _markdown_seam as seam
from ai_chat.components._typed_reflex import icon

# The rendered element's attributes and the code block's text, read through the renderer's
# JS names (_markdown_seam.py is the only module that knows them).
_HREF = seam.element_prop("href")
_SAFE_HREF = seam.href_is_safe()
_IMG_ALT = seam.element_prop("alt", fallback="no description")
_IMG_SRC = seam.element_prop("src", fallback="unsafe URL removed")
_CODE_TEXT = seam.code_text()
_CODE_LANGUAGE = seam.code_language()

_LINK_REL = "noopener noreferrer nofollow"


def _link(children: rx.Var[str], **_: Any) -> rx.Component:
    # The outer span receives react-markdown's `{...props}` (spread last, so it would override
    # an href we set on the element itself); on a span, href/title are inert.
    return rx.el.span(
        rx.cond(
            _SAFE_HREF,
            # A plain <a> (rx.el.a is a react-router Link: client-side routing, not wanted here).
            rx.el.A.create(
                children,
                href=_HREF,
                target="_blank",
                rel=_LINK_REL,
                title=_HREF,
                color=rx.color("accent", 11),
                text_decoration="underline",
            ),
            rx.el.span(
                children,
                class_name="md-link-blocked",
                title="Link removed: only http(s) and mailto links are allowed",
                text_decoration="underline dotted",
            ),
        ),
        class_name="md-link",
    )


def _image(*_: Any, **__: Any) -> rx.Component:
    # Text only: no <img>, so nothing is fetched. React escapes alt and src.
    return rx.el.span(
        "🖼 image: ",
        _IMG_ALT,
        " — ",
        _IMG_SRC,
        class_name="md-image",
        display="inline-block",
        padding="0 0.4em",
        border=f"1px dashed {rx.color('gray', 7)}",
        border_radius="4px",
        color=rx.color("gray", 11),
        font_size="0.9em",
        word_break="break-all",
    )


def _copy_button() -> rx.Component:
    return rx.button(
        icon("copy", size=14),
        rx.el.span("Copy", class_name="copy-label"),
        type="button",
        aria_label="Copy code",
        title="Copy code",
        size="1",
        variant="soft",
        color_scheme="gray",
        class_name="copy-code",
        custom_attrs={"onClick": seam.copy_code_on_click()},
        position="absolute",
        top="0.4em",
        right="0.4em",
        # Feedback without React state: assets/chat_page.js sets data-copied for 1.5 s.
        style={
            "&[data-copied] .copy-label": {"display": "none"},
            '&[data-copied="true"]::after': {"content": '"Copied"'},
            '&[data-copied="failed"]::after': {"content": '"Copy failed"'},
        },
    )


def _code_block(_text: rx.Var[str], **props: Any) -> rx.Component:
    # rx.markdown's default `pre` renderer (props carries `language`) plus a copy button in a
    # top strip of its own, so it never covers code.
    # Highlighting themes chosen for WCAG AA contrast (the default one-light fails it).
    props.setdefault(
        "theme",
        rx.color_mode_cond(light=rx.code_block.themes.vs, dark=rx.code_block.themes.a11y_dark),
    )
    # The fence's language labels the strip ("text" when it names none).
    return rx.box(
        rx.code_block(
            _CODE_TEXT, margin="0", padding="2.4em 1em 1em 1em", wrap_long_lines=True, **props
        ),
        rx.el.span(_CODE_LANGUAGE, class_name="code-lang"),
        _copy_button(),
        position="relative",
        margin_y="1em",
        class_name="md-code",
    )


def _table(children: rx.Var[str], **_: Any) -> rx.Component:
    # Wide tables scroll inside the bubble instead of stretching it or breaking words
    # (chat.css); focusable, so the keyboard can scroll them too.
    return rx.box(
        rx.el.table(children),
        overflow_x="auto",
        margin_y="0.75em",
        class_name="md-table",
        tab_index=0,
        role="region",
        aria_label="Table",
        style={
            "& table": {"border_collapse": "collapse"},
            "& th, & td": {
                "border": f"1px solid {rx.color('gray', 6)}",
                "padding": "0.25em 0.6em",
            },
            "& th": {"background": rx.color("gray", 3)},
        },
    )


# Merged over rx.markdown's defaults (headings, p, lists, inline code stay as they are).
SAFE_COMPONENT_MAP: dict[str, Callable[..., rx.Component]] = {
    "a": _link,
    "img": _image,
    "pre": _code_block,
    "table": _table,
}


PLAIN_NOTE = "Shown as plain text: too deeply nested to format."


def plain_text(text: rx.Var[str] | str, **props: Any) -> rx.Component:
    """Untrusted text shown as it is, wrapped, with a note saying why it isn't formatted:
    for a reply nested too deeply for the Markdown renderer (state/markdown_depth.py),
    which would overflow the browser's stack and break the whole page."""
    return rx.fragment(
        rx.text(text, white_space="pre-wrap", overflow_wrap="anywhere", **props),
        rx.text(PLAIN_NOTE, size="1", color_scheme="gray", class_name="plain-note", role="note"),
    )


def markdown_or_plain(
    text: rx.Var[str] | str, plain: rx.Var[bool] | bool, **props: Any
) -> rx.Component:
    """`safe_markdown`, or `plain_text` where `plain` (computed on the server)."""
    return rx.cond(plain, plain_text(text, **props), safe_markdown(text, **props))


def live_markdown_or_plain(
    text: rx.Var[str], plain: rx.Var[bool] | bool, **props: Any
) -> rx.Component:
    """`markdown_or_plain` for a reply still streaming: its open emphasis is closed for
    display (`**Bol` shows bold, a half-arrived `- *` no second bullet)."""
    return rx.cond(
        plain, plain_text(text, **props), safe_markdown(seam.live_markdown(text), **props)
    )


def safe_markdown(text: rx.Var[str] | str, **props: Any) -> rx.Component:
    """rx.markdown for untrusted text; `props` go to the wrapping div (e.g. class_name).

    Passing `use_raw` or `component_map` is a TypeError on purpose: both would undo the safety.
    """
    return rx.markdown(text, use_raw=False, component_map=SAFE_COMPONENT_MAP, **props)
