"""A turn's files as content blocks, and which earlier files fit one request."""

from __future__ import annotations

import base64

from ai_chat.llm.history import Turn, TurnFile, build_messages, limit_pages, plan_files


def image(data: bytes = b"\x89PNG-bytes", name: str = "p.png") -> TurnFile:
    return TurnFile("image", "image/png", name, len(data), "sha-" + name, data)


def pdf(pages: int, name: str = "r.pdf", data: bytes = b"%PDF-1.7 x") -> TurnFile:
    return TurnFile("pdf", "application/pdf", name, len(data), "sha-" + name, data, pages)


def text_file(body: str = "print(1)\n", name: str = "main.py") -> TurnFile:
    data = ("\ufeff" + body).encode()
    return TurnFile("text", "text/plain", name, len(data), "sha-" + name, data)


def test_files_become_blocks_before_the_text():
    png, report, code = image(), pdf(2), text_file()
    (message,) = build_messages([], "What's this?", 10_000, [png, report, code])
    assert message["content"] == [
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": base64.b64encode(png.data).decode(),
            },
        },
        {
            "type": "document",
            "source": {
                "type": "base64",
                "media_type": "application/pdf",
                "data": base64.b64encode(report.data).decode(),
            },
            "title": "r.pdf",
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "print(1)\n"},
            "title": "main.py",
        },
        {"type": "text", "text": "What's this?"},
    ]


def test_files_alone_send_no_empty_text_block():
    (message,) = build_messages([], "", 10_000, [image()])
    assert [b["type"] for b in message["content"]] == ["image"]


def test_history_keeps_its_files_and_a_text_only_turn_stays_a_string():
    history = [Turn("user", "look", attachments=(image(),)), Turn("assistant", "a cat")]
    messages = build_messages(history, "thanks", 10_000)
    assert [b["type"] for b in messages[0]["content"]] == ["image", "text"]
    assert messages[1] == {"role": "assistant", "content": "a cat"}
    assert messages[2] == {"role": "user", "content": "thanks"}


def test_an_unanswered_turns_files_are_left_out_with_it():
    history = [Turn("user", "lost", attachments=(image(),)), Turn("assistant", "", "failed")]
    assert build_messages(history, "again", 10_000) == [{"role": "user", "content": "again"}]
    assert plan_files(history, [], 10**9) == set()


def test_a_file_left_out_is_a_note_naming_it():
    left_out = image()._replace(data=None)
    (message,) = build_messages([], "and?", 10_000, [left_out])
    note = message["content"][0]
    assert note["type"] == "text" and "“p.png”" in note["text"] and "not included" in note["text"]


def test_newest_files_are_kept_within_the_request_limit():
    big = b"x" * 3000  # 4,000 bytes as base64
    history = [
        Turn("user", "old", attachments=(image(big, "old.png"),)),
        Turn("assistant", "seen"),
        Turn("user", "new", attachments=(image(big, "mid.png"), image(big, "new.png"))),
        Turn("assistant", "seen too"),
    ]
    text = 2 * sum(len(t.content) for t in history)
    assert plan_files(history, [], 8000 + text) == {(2, 0), (2, 1)}
    assert plan_files(history, [image(big)], 8000 + text) == {(2, 1)}
    assert plan_files(history, [], 12_000 + text) == {(0, 0), (2, 0), (2, 1)}


def test_the_oldest_pdfs_give_way_to_the_page_limit():
    history = [
        Turn("user", "a", attachments=(pdf(40, "a.pdf"),)),
        Turn("assistant", "ok"),
        Turn("user", "b", attachments=(pdf(30, "b.pdf"), image())),
        Turn("assistant", "ok"),
    ]
    kept = limit_pages(history, [pdf(50, "new.pdf")], 100)
    assert kept[0].attachments[0].data is None  # 50 + 30 + 40 > 100
    assert kept[2].attachments[0].data is not None and kept[2].attachments[1].data is not None
    assert limit_pages(history, [], 100) == history


def test_a_text_files_characters_count_toward_the_history_limit():
    history = [
        Turn("user", "read this", attachments=(text_file("x" * 500, "big.txt"),)),
        Turn("assistant", "done"),
    ]
    assert len(build_messages(history, "next", 1000)) == 3
    assert build_messages(history, "next", 400) == [{"role": "user", "content": "next"}]


def test_at_most_20_images_go_in_one_request():
    history = []
    for n in range(15):
        history += [
            Turn("user", f"q{n}", attachments=(image(name=f"{n}.png"),)),
            Turn("assistant", "a"),
        ]
    new = [image(name=f"new{n}.png") for n in range(8)]
    chosen = plan_files(history, new, 10**9)
    assert sorted(i // 2 for i, _ in chosen) == list(range(3, 15))  # the 12 newest
