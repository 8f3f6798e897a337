"""The one place that knows the JavaScript names inside rx.markdown's renderers.

rx.markdown (reflex-components-markdown 0.10) compiles each entry of `component_map` into a
JS function, and a Python renderer can only reach the element it renders through the local
names of that function. What this module relies on:

- every renderer is `({node, children, ...props}) => …`: `props` is react-markdown's props
  for the element (`href`, `src`, `alt`, `title` …);
- the `pre` renderer (reflex_components_markdown/markdown.py `_get_codeblock_fn_var`)
  destructures the code element's children as `components` and builds
  `children = String(components)` from them, so an empty fence (a reply streaming into a
  new code block, or cut off right after three backticks) gives `children == "undefined"`;
- the same function has the fence's language in a local `_language` ("" when the fence
  names none);
- `window.aiChat.copyCode(text, event)` is defined by assets/chat_page.js,
  `window.aiChatPolish.liveMarkdown(text)` by assets/chat_polish.js.

If an upgrade renames any of these, the JS still compiles but reads `undefined`: links turn
into blocked text, image placeholders say "no description"/"unsafe URL removed", code blocks
copy nothing and are all labelled "text", a streaming reply shows its open emphasis as typed.
tests/components/test_markdown.py checks the compiled names;
tests/e2e/test_rendering_safety_browser.py and test_polish_browser.py check the behaviour.

Only public Var API is used: `rx.Var(js).to(type)` types an expression,
`rx.vars.FunctionStringVar` names a browser function.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars import FunctionStringVar, StringVar

# react-markdown's props of the element being rendered (every renderer's scope).
ELEMENT_PROPS = "props"


def element_prop(name: str, fallback: str | None = None) -> StringVar:
    """The rendered element's attribute `name` (e.g. "href"), or `fallback` when it is
    missing or empty."""
    expr = f"{ELEMENT_PROPS}.{name}"
    if fallback is not None:
        expr = f"({expr} || {rx.Var.create(fallback)!s})"
    return rx.Var(expr).to(str)


def href_is_safe() -> rx.Var[bool]:
    """True for an absolute http(s) or mailto link (react-markdown blanks other schemes to
    "", which must not become a link either: it would reload the page)."""
    return rx.Var(f'/^(https?|mailto):/i.test({ELEMENT_PROPS}.href ?? "")').to(bool)


def code_text() -> StringVar:
    """The code block's text in the `pre` renderer: "" for an empty fence, never
    "undefined"."""
    return rx.Var('(components == null ? "" : children)').to(str)


def copy_code_on_click() -> rx.Var[object]:
    """An onClick handler that copies `code_text()` in the browser (assets/chat_page.js),
    with no trip through Reflex's event queue: it works offline too. A page without the
    script copies nothing rather than failing."""
    return FunctionStringVar.create("window.aiChat?.copyCode").partial(code_text())


def code_language(fallback: str = "text") -> StringVar:
    """The code block's language as its fence names it, or `fallback`."""
    return rx.Var(f"(_language || {rx.Var.create(fallback)!s})").to(str)


def live_markdown(text: rx.Var[str]) -> StringVar:
    """The streaming reply's text with its open emphasis closed for display
    (assets/chat_polish.js); the text itself where the script is not there (yet)."""
    close: FunctionStringVar[Any] = FunctionStringVar.create(
        '((t) => (typeof window === "undefined" ? t'
        " : (window.aiChatPolish?.liveMarkdown?.(t) ?? t)))"
    )
    return close.call(text).to(str)
