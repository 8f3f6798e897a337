"""Markdown and JSON exports are built from the stored turns."""

from __future__ import annotations

import json

from ai_chat.store.export import to_json, to_markdown
from ai_chat.store.models import Conversation, Message


def _conversation() -> tuple[Conversation, list[Message]]:
    conv = Conversation(id="c1", owner="alice", title="Trip plan")
    messages = [
        Message(conversation_id="c1", seq=0, role="user", content="Where to go?"),
        Message(
            conversation_id="c1",
            seq=1,
            role="assistant",
            content="Rome.\n",
            model="m-1",
            status="complete",
            input_tokens=5,
            output_tokens=2,
        ),
        Message(conversation_id="c1", seq=2, role="user", content="More?"),
        Message(
            conversation_id="c1",
            seq=3,
            role="assistant",
            content="Also Na",
            model="m-1",
            status="cancelled",
            output_tokens=2,
            output_tokens_estimated=True,
        ),
    ]
    return conv, messages


def test_markdown_export_has_every_turn_and_marks_stopped_replies():
    text = to_markdown(*_conversation())
    assert text.startswith("# Trip plan\n")
    assert text.count("## You") == 2 and text.count("## Claude (m-1)") == 2
    assert "Rome." in text and "Also Na" in text
    assert "_(stopped by the user)_" in text


def test_json_export_round_trips_with_usage():
    data = json.loads(to_json(*_conversation()))
    assert data["title"] == "Trip plan"
    assert [m["role"] for m in data["messages"]] == ["user", "assistant", "user", "assistant"]
    assert data["messages"][1]["usage"]["output_tokens"] == 2
    assert data["messages"][3]["status"] == "cancelled"
    assert data["messages"][3]["usage"]["output_tokens_estimated"] is True


def test_exports_list_each_messages_attachments():
    from ai_chat.store.models import Attachment

    conv, messages = _conversation()
    files = {
        messages[0].id: [
            Attachment(
                owner="alice",
                sha256="s",
                filename="map`s.png",
                media_type="image/png",
                kind="image",
                size=123_456,
            ),
            Attachment(
                owner="alice",
                sha256="t",
                filename="plan.pdf",
                media_type="application/pdf",
                kind="pdf",
                size=900,
            ),
        ]
    }
    text = to_markdown(conv, messages, files)
    assert "- Attached: `map's.png` (image/png, 123 KB)" in text
    assert "- Attached: `plan.pdf` (application/pdf, 900 bytes)" in text
    assert text.index("plan.pdf") < text.index("## Claude")
    data = json.loads(to_json(conv, messages, files))
    assert data["messages"][0]["attachments"] == [
        {"filename": "map`s.png", "media_type": "image/png", "kind": "image", "size": 123_456},
        {"filename": "plan.pdf", "media_type": "application/pdf", "kind": "pdf", "size": 900},
    ]
    assert data["messages"][1]["attachments"] == []
