"""The simulator's per-token frame template matches the general frame encoder byte for byte."""

from __future__ import annotations

import pytest

from ai_chat.simulator.protocol import delta_frame, sse_frame


@pytest.mark.parametrize(
    "text", ["Hello", " world", 'quote " and \\ back', "line\nbreak\ttab", "ünïcode ✓ 🙂", ""]
)
@pytest.mark.parametrize(
    ("index", "kind", "field"), [(0, "text_delta", "text"), (1, "thinking_delta", "thinking")]
)
def test_delta_frame_is_sse_frame_of_the_same_delta(index, kind, field, text) -> None:
    data = {"type": "content_block_delta", "index": index, "delta": {"type": kind, field: text}}
    assert delta_frame(index, kind, field, text) == sse_frame(data)
