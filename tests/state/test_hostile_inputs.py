"""Hostile messages and replies through the real event path, on SQLite and PostgreSQL.

Each message is sent with the simulator's echo, so Claude's reply is the same hostile text:
both the user's turn and the reply are exercised. For each: what is stored is what was sent
after cleaning (store/text.py: lone surrogates → U+FFFD, NUL dropped), or it was refused with
a clear toast and nothing was stored; the conversation opens and exports; a reply nested too
deeply is marked to show as plain text; and the tab stays usable (hostile.assert_usable).
The other handlers (search, rename, settings, wrong payload types): test_hostile_events.py.
"""

from __future__ import annotations

import base64
import json

import pytest

from ai_chat.simulator.options import remove_directives
from ai_chat.state.chat import ChatState
from ai_chat.state.live import LiveState
from ai_chat.store.text import clean_text
from tests.conftest import eventually
from tests.state.hostile import (
    ECHO,
    assert_usable,
    fire,
    hostile_tab,
    settle,
    shown,
    socket_problems,
    stored,
    toasts,
)

LIMIT = 50_000  # AI_CHAT_MAX_MESSAGE_CHARS's default
PADDED = LIMIT - len(" " + ECHO)  # text that makes the sent message exactly LIMIT long

# (id, text, reply nested too deeply to format). Each is sent as f"{text} {ECHO}".
STORED: list[tuple[str, str, bool]] = [
    ("lone-high-surrogate", "before \ud800 after", False),
    ("lone-low-surrogate", "before \udc00 after", False),
    ("reversed-pair", "x \ude00\ud83d y", False),
    ("pair-as-two-code-points", "smile \ud83d\ude00", False),
    ("nul", "a\x00b\x00c", False),
    ("c0-controls", "".join(map(chr, range(1, 9))) + "\x0b\x0c\x0e\x1f\x7f end", False),
    ("ansi-escapes", "\x1b[31mred\x1b[0m \x1b]0;title\x07 done", False),
    ("rtl-override", "invoice\u202egpj.exe \u2066isolate\u2069", False),
    ("zero-width", "a\u200bb\u200cc\u200dd\ufeff 👨\u200d👩\u200d👧", False),
    ("line-separators", "a\u2028b\u2029c\x85d", False),
    ("crlf", "line one\r\nline two\r\n\r\nend", False),
    ("quote-3000", ">" * 3000 + " deep", True),
    ("quote-20000", ">" * 20_000, True),
    ("spaced-quotes", "> " * 2000 + "x", True),
    ("inline-lists", "- " * 3000 + "x", True),
    ("indented-lists", "\n".join("  " * i + "- item" for i in range(100)), True),
    ("ordered-lists", "1. " * 2000 + "x", True),
    ("emphasis-3000", "*a " * 3000 + "x" + " b*" * 3000, True),
    ("strikethrough-1500", "~~a " * 1500 + "x" + " b~~" * 1500, True),
    ("open-brackets-10000", "[" * 10_000, False),
    ("nested-brackets-5000", "[" * 5000 + "x" + "]" * 5000, True),
    ("huge-single-line", ("lorem ipsum dolor " * 3000)[:45_000], False),
    ("exactly-the-limit", "x" * PADDED, False),
    ("astral", "😀🎉 𝕏𝔂 𓀀 🏳️\u200d🌈 \U0010fffd", False),
    ("combining-marks", "".join(c + "\u0300\u0301\u0302\u0303\u0336" * 20 for c in "zalgo"), False),
    ("normalization-forms", "\u00c5 vs A\u030a, \ufb01 vs fi", False),
    ("noncharacters", "\ufffe\uffff\U0001fffe private \ue000", False),
    ("script-tags", "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>", False),
    ("javascript-links", '[click](javascript:alert(1)) <a href="javascript:alert(1)">x</a>', False),
    ("sim-directives", "[[sim error=500]] then [[sim drop=1]]", False),
    ("sql", "'; DROP TABLE message; -- \" OR 1=1 /* %_\\ */", False),
    ("json-looking", '{"message": "x", "__proto__": {"admin": true}, "form_data": null}', False),
    ("template-syntax", "{{7*7}} ${7*7} {% raw %} <%= 7*7 %>", False),
]


@pytest.fixture
async def tab(app_env, db_url):
    async with hostile_tab(app_env, db_url) as tab:
        yield tab


def _downloaded(tab, since: int) -> str:
    """The text of the last download the tab was sent (an export)."""
    downloads = [e for p in tab.pushes()[since:] for e in p.events if e.name == "_download"]
    assert downloads, "the export was sent"
    url = downloads[-1].payload["url"]
    return base64.b64decode(url.split("base64,", 1)[1]).decode("utf-8")


@pytest.mark.parametrize(("text", "deep"), [c[1:] for c in STORED], ids=[c[0] for c in STORED])
async def test_a_hostile_message_and_reply_are_stored_cleaned(tab, text, deep):
    sent = f"{text} {ECHO}"
    assert len(sent) <= LIMIT
    await tab.open()
    assert await fire(tab, LiveState, "send", form_data={"message": sent}) is None
    await settle(tab)
    user, reply = await shown(tab)
    assert reply.status == "complete", reply.error
    cid = (await tab.chat()).conversation_id

    user, reply = await stored(tab, cid)
    assert user.content == clean_text(sent)
    # The echo: Claude's reply is the user's text (directives removed), stored cleaned too.
    assert reply.content == remove_directives(clean_text(sent))
    assert (reply.too_deep, user.too_deep) == (deep, False)

    since = len(tab.pushes())
    assert await fire(tab, ChatState, "export", fmt="json") is None
    exported = json.loads(_downloaded(tab, since))
    assert [m["content"] for m in exported["messages"]] == [user.content, reply.content]
    assert await fire(tab, ChatState, "export", fmt="md") is None
    assert reply.content[-200:] in _downloaded(tab, since)
    problems = socket_problems(tab)
    assert not problems, f"pushes the socket can't send (UTF-8): {problems}"
    await assert_usable(tab)


async def test_a_message_over_the_limit_is_refused_with_a_message_and_nothing_stored(tab):
    await tab.open()
    sent = "x" * (PADDED + 1) + " " + ECHO
    assert len(sent) == LIMIT + 1
    assert await fire(tab, LiveState, "send", form_data={"message": sent}) is None
    assert any("the limit is 50,000" in t and "50,001" in t for t in toasts(tab))
    assert (await tab.chat()).conversation_id == "" and await shown(tab) == []
    assert not (await tab.live()).generating
    await assert_usable(tab)


@pytest.mark.parametrize(
    "text", ["   \n\t  \r\n", "", "\u3000\u00a0"], ids=["blank", "empty", "nbsp"]
)
async def test_a_whitespace_only_message_sends_nothing(tab, text):
    await tab.open()
    assert await fire(tab, LiveState, "send", form_data={"message": text}) is None
    assert (await tab.chat()).conversation_id == "" and await shown(tab) == []
    assert not (await tab.live()).generating
    await assert_usable(tab)


async def test_a_malformed_sim_directive_fails_the_reply_with_a_reason(tab):
    # The simulator answers 400 for a bad option, as Claude does for a bad request.
    await tab.open()
    assert await fire(tab, LiveState, "send", form_data={"message": "hi [[sim tps=abc]]"}) is None
    await settle(tab)
    user, reply = await shown(tab)
    assert reply.status == "failed" and reply.error
    assert user.content == "hi [[sim tps=abc]]"
    await assert_usable(tab)


async def test_a_too_deep_reply_is_flagged_while_it_streams(tab):
    await tab.open()
    await tab.send(">" * 3000 + " x [[sim echo=1 tps=2000 ttft=0 chunk=16]]")

    async def flagged() -> bool:
        live = await tab.live()
        return live.generating and live.live_too_deep

    await eventually(flagged, 15, "the streaming reply to be flagged")
    await settle(tab)
    assert not (await tab.live()).live_too_deep, "cleared with the reply"
    assert (await shown(tab))[-1].too_deep
