"""The message box and the system prompt carry their limits to the browser, where the page
script refuses an over-limit text before it is sent (tests/e2e/test_hostile_content_browser.py
proves the behaviour); these catch a field that lost its limit, in seconds."""

from __future__ import annotations

import re
from pathlib import Path

from ai_chat.components.composer import composer
from ai_chat.components.message import message_bubble
from ai_chat.components.page_script import PAGE_SCRIPT_ASSET, page_script
from ai_chat.components.settings import settings_dialog
from ai_chat.config import get_settings
from ai_chat.state.chat import ChatState


def _attr(rendered: str, name: str) -> list[str]:
    return re.findall(rf'"{name}" ?: ?"([^"]*)"', rendered)


def test_the_message_box_carries_the_message_limit():
    rendered = str(composer().render())
    assert _attr(rendered, "data-max-chars") == [str(get_settings().max_message_chars)]
    assert _attr(rendered, "data-error-id") == ["message-error"]
    assert '"message-error"' in rendered and '"alert"' in rendered  # the error, announced
    assert _attr(str(composer(max_chars=123).render()), "data-max-chars") == ["123"]


def test_the_system_prompt_carries_its_limit():
    rendered = str(settings_dialog().render())
    assert _attr(rendered, "data-max-chars") == [str(get_settings().max_system_prompt_chars)]
    assert _attr(rendered, "data-error-id") == ["system-prompt-error"]
    assert _attr(str(settings_dialog(max_prompt_chars=7).render()), "data-max-chars") == ["7"]


PAGE_SCRIPT = (Path(__file__).parents[2] / "assets" / PAGE_SCRIPT_ASSET).read_text("utf-8")


def test_the_page_loads_its_script_from_assets():
    rendered = str(page_script().render())
    assert re.search(rf'src:"/{re.escape(PAGE_SCRIPT_ASSET)}\?v=[0-9a-f]+"', rendered), rendered


def test_the_page_script_refuses_before_react_sends():
    # Capture on the window runs before React's listener on the root; both stops are needed:
    # preventDefault (no page navigation) and stopImmediatePropagation (no send).
    assert "window.addEventListener('submit'" in PAGE_SCRIPT
    assert "e.preventDefault(); e.stopImmediatePropagation();" in PAGE_SCRIPT
    assert "}, true);" in PAGE_SCRIPT
    assert r"/[\uD800-\uDBFF][\uDC00-\uDFFF]/g" in PAGE_SCRIPT  # counts code points


def test_a_too_deep_reply_renders_as_plain_text_with_a_note():
    rendered = str(message_bubble(ChatState.messages[0], ChatState.messages.length() == 1).render())
    assert "too_deep" in rendered
    assert "Shown as plain text: too deeply nested to format." in rendered
