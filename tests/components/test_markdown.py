"""What safe_markdown compiles to: checked on the generated JS, no browser needed.

The browser proves behaviour (tests/e2e/test_rendering_safety_browser.py); these catch a
regression in seconds, e.g. someone re-enabling raw HTML or dropping the image guard.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import reflex as rx

from ai_chat.components.markdown import safe_markdown


def _compiled(text: str | rx.Var[str] = "x") -> tuple[str, str]:
    wrapper = safe_markdown(text, class_name="message-body")
    markdown = wrapper.children[0]
    return str(wrapper.render()), markdown._get_custom_code() or ""


_NEXT_RENDERER = re.compile(r'\), \["(?:h[1-6]|p|ul|ol|li|a|code|img|pre|table)"\] : ')


def _renderer(code: str, tag: str) -> str:
    """The JS of one entry of the component map (up to the next entry)."""
    start = code.index(f'["{tag}"] : ')
    following = _NEXT_RENDERER.search(code, start + 1)
    return code[start : following.start() if following else None]


def test_no_raw_html_and_gfm_math_on() -> None:
    rendered, _ = _compiled()
    inner = str(safe_markdown("x").children[0].render())
    assert "rehypeRaw" not in inner
    assert "remarkGfm" in inner and "remarkMath" in inner and "rehypeKatex" in inner
    assert "message-body" in rendered


def test_links_only_http_and_mailto_with_safe_rel() -> None:
    _, code = _compiled()
    link = _renderer(code, "a")
    assert '/^(https?|mailto):/i.test(props.href ?? "")' in link
    assert 'rel:"noopener noreferrer nofollow"' in link and 'target:"_blank"' in link
    assert "ReactRouterLink" not in link  # a plain <a>, no client-side routing
    assert "md-link-blocked" in link


def test_images_are_text_placeholders() -> None:
    _, code = _compiled()
    image = _renderer(code, "img")
    assert 'jsx("span"' in image and "props.src" in image and "props.alt" in image
    assert '"img"' not in image.replace('["img"]', "")


def test_code_blocks_keep_highlighting_and_copy_client_side() -> None:
    _, code = _compiled()
    pre = _renderer(code, "pre")
    assert "SyntaxHighlighter" in pre
    assert '"aria-label":"Copy code"' in pre
    # Copies the same text the block shows, through the page script (assets/chat_page.js).
    assert 'window.aiChat?.copyCode((components == null ? "" : children), ...args)' in pre
    assert "addEvents" not in pre  # no trip through Reflex's event queue


def test_takes_a_var() -> None:
    # A Var, as message.py passes it (no State subclass here: it would join the app's tree).
    rendered, _ = _compiled(rx.Var("message.content").to(str))
    assert "message.content" in rendered


def test_safety_options_cannot_be_overridden() -> None:
    with pytest.raises(TypeError):
        safe_markdown("x", use_raw=True)
    with pytest.raises(TypeError):
        safe_markdown("x", component_map={})


def test_code_blocks_never_show_undefined_for_an_empty_fence() -> None:
    _, code = _compiled()
    pre = _renderer(code, "pre")
    assert '(components == null ? "" : children)' in pre
    assert 'copyCode((components == null ? "" : children)' in pre  # Copy copies the same text


def test_copy_function_is_defined_by_the_page_script() -> None:
    # The renderer calls window.aiChat.copyCode; assets/chat_page.js must define it.
    script = (Path(__file__).parents[2] / "assets" / "chat_page.js").read_text()
    assert "window.aiChat = window.aiChat || {" in script
    assert "copyCode(text, e) {" in script


def test_code_blocks_are_labelled_with_their_fence_language() -> None:
    _, code = _compiled()
    pre = _renderer(code, "pre")
    # `_language` is the local the pre renderer sets from the fence (reflex-components-markdown).
    assert "let _language = match ? match[1] : ''" in pre
    assert '(_language || "text")' in pre and "code-lang" in pre


def test_wide_tables_are_a_focusable_scrolling_region() -> None:
    _, code = _compiled()
    table = _renderer(code, "table")
    assert "md-table" in table and "tabIndex:0" in table and 'role:"region"' in table


def test_the_live_reply_closes_open_emphasis_through_the_polish_script() -> None:
    from ai_chat.components.markdown import live_markdown_or_plain

    live = live_markdown_or_plain(rx.Var("live.text").to(str), False)
    assert "window.aiChatPolish?.liveMarkdown?.(t) ?? t" in str(live.render())
    assert "live.text" in str(live.render())
    script = (Path(__file__).parents[2] / "assets" / "chat_polish.js").read_text()
    assert "window.aiChatPolish = window.aiChatPolish ||" in script
    assert "return {liveMarkdown};" in script
