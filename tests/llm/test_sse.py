"""The lean event-stream decoder: frames survive any chunking and every line ending."""

from __future__ import annotations

import json

import pytest

from ai_chat.llm.sse import EventTooLarge, SSEDecoder

BODY = (
    b"event: message_start\n"
    b'data: {"type":"message_start"}\n'
    b"\n"
    b": a comment line\n"
    b"event: ping\n"
    b'data: {"type": "ping"}\n'
    b"\n"
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","delta":{"text":"caf\xc3\xa9 \xe2\x9c\x93"}}\n'
    b"\n"
    b"event: multi\n"
    b"data: first\n"
    b"data:second\n"
    b"id: 7\n"
    b"retry: 100\n"
    b"\n"
)
EXPECTED = [
    ("message_start", b'{"type":"message_start"}'),
    ("ping", b'{"type": "ping"}'),
    (
        "content_block_delta",
        b'{"type":"content_block_delta","delta":{"text":"caf\xc3\xa9 \xe2\x9c\x93"}}',
    ),
    ("multi", b"first\nsecond"),
]


def decode(chunks: list[bytes]) -> list[tuple[str, bytes]]:
    decoder = SSEDecoder()
    frames = [frame for chunk in chunks for frame in decoder.feed(chunk)]
    return frames + decoder.flush()


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_split_point_and_line_ending_gives_the_same_frames(newline: bytes) -> None:
    body = BODY.replace(b"\n", newline)
    assert decode([body]) == EXPECTED
    for cut in range(1, len(body)):
        assert decode([body[:cut], body[cut:]]) == EXPECTED, (newline, cut)


def test_one_byte_at_a_time() -> None:
    body = BODY.replace(b"\n", b"\r\n")
    assert decode([body[i : i + 1] for i in range(len(body))]) == EXPECTED


def test_utf8_split_inside_a_character_is_rejoined() -> None:
    frames = decode([BODY[:180], BODY[180:]])  # 180 falls inside the multi-byte text
    text = json.loads(frames[2][1])["delta"]["text"]
    assert text == "café ✓"


def test_a_frame_without_its_closing_blank_line_is_dropped_at_the_end() -> None:
    assert decode([b'event: message_stop\ndata: {"type":"message_stop"}']) == []
    assert decode([b'event: message_stop\ndata: {"type":"message_stop"}\n\n']) == [
        ("message_stop", b'{"type":"message_stop"}')
    ]


def test_data_without_an_event_line_has_an_empty_name() -> None:
    # The caller skips it, as the SDK does with frames that have no `event:` line.
    assert decode([b"data: {}\n\n"]) == [("", b"{}")]


def test_an_event_up_to_the_cap_passes_and_one_byte_more_fails() -> None:
    event = b"event: e\ndata: " + b"x" * 40 + b"\n\n"  # lines of 9 and 47 bytes, with LFs
    assert SSEDecoder(max_event_bytes=56).feed(event) == [("e", b"x" * 40)]
    with pytest.raises(EventTooLarge):
        SSEDecoder(max_event_bytes=55).feed(event)


def test_the_cap_is_per_event_not_per_stream() -> None:
    decoder = SSEDecoder(max_event_bytes=64)
    event = b"event: e\ndata: " + b"x" * 40 + b"\n\n"
    assert len([f for _ in range(100) for f in decoder.feed(event)]) == 100


def test_a_line_that_never_ends_fails_once_it_passes_the_cap() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    decoder.feed(b"event: e\ndata: ")
    with pytest.raises(EventTooLarge):
        for _ in range(100):
            decoder.feed(b"y" * 100)
    assert len(decoder._pending) < 1200  # held no more than the cap and one chunk
