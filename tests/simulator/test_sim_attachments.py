"""Image and document blocks through the real anthropic SDK over HTTP: the simulator checks
them like the API, names them at the start of its reply, and records what it got."""

from __future__ import annotations

import base64

import anthropic
import pytest

from ai_chat.simulator import SimulatorServer
from tests.files import samples

MODEL = "claude-sim-test"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def _reply(client: anthropic.AsyncAnthropic, content: list[dict]) -> str:
    async with client.messages.stream(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": content}]
    ) as stream:
        final = await stream.get_final_message()
    return final.content[0].text  # type: ignore[union-attr]


async def test_a_pdf_image_and_text_document_are_named_and_recorded(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer, tag: str
) -> None:
    png, pdf = samples.png(), samples.pdf(3)
    text = await _reply(
        client,
        [
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": b64(png)},
            },
            {
                "type": "document",
                "source": {"type": "base64", "media_type": "application/pdf", "data": b64(pdf)},
                "title": "report.pdf",
            },
            {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": "hello, world"},
                "title": "notes.txt",
            },
            {"type": "text", "text": f"What is in these? [[sim tag={tag}]]"},
        ],
    )
    assert text.startswith(
        f"I received 3 attachments: image/png image ({len(png):,} bytes), "
        'document "report.pdf" (application/pdf, 3 pages), '
        'document "notes.txt" (text/plain, 12 characters).'
    )
    record = await sim.recorder.wait_for_async(lambda r: r.tag == tag and r.finished)
    assert [(a["type"], a.get("title"), a.get("pages")) for a in record.attachments] == [
        ("image", None, None),
        ("document", "report.pdf", 3),
        ("document", "notes.txt", None),
    ]
    assert record.attachments[1]["bytes"] == len(pdf)
    # The record keeps the request's shape, not its bytes.
    source = record.messages[0]["content"][1]["source"]
    assert source["data"] == f"<{len(b64(pdf))} base64 characters>"


async def test_only_the_last_messages_files_are_named(
    client: anthropic.AsyncAnthropic, sim: SimulatorServer
) -> None:
    old = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": b64(samples.png())},
    }
    async with client.messages.stream(
        model=MODEL,
        max_tokens=100,
        messages=[
            {"role": "user", "content": [old, {"type": "text", "text": "first"}]},
            {"role": "assistant", "content": "seen"},
            {"role": "user", "content": "and now?"},
        ],
    ) as stream:
        final = await stream.get_final_message()
    assert not final.content[0].text.startswith("I received")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("block", "says"),
    [
        (
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/bmp", "data": "AAAA"},
            },
            "media_type",
        ),
        (
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": "%%%"},
            },
            "invalid base64",
        ),
        (
            {
                "type": "document",
                "source": {"type": "base64", "media_type": "application/pdf", "data": b64(b"nope")},
            },
            "PDF specified was not valid",
        ),
        ({"type": "document", "source": {"type": "text", "data": "x"}}, "text/plain"),
    ],
)
async def test_a_malformed_block_is_an_invalid_request(
    client: anthropic.AsyncAnthropic, block: dict, says: str
) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        await _reply(client, [block, {"type": "text", "text": "hi"}])
    assert caught.value.status_code == 400
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert says in caught.value.message


async def test_more_than_100_pdf_pages_in_one_request_is_refused(
    client: anthropic.AsyncAnthropic,
) -> None:
    pdf = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": b64(samples.pdf(60))},
    }
    with pytest.raises(anthropic.BadRequestError) as caught:
        await _reply(client, [pdf, pdf, {"type": "text", "text": "both"}])
    assert "100 PDF pages" in caught.value.message
