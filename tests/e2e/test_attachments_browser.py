"""Attachments in a real browser: the paperclip's picker, drop onto the page and paste into
the message box; the upload's progress; files refused before upload; a PDF that reaches
Claude (the simulator) as a document block; thumbnails after a reload."""

from __future__ import annotations

import base64
import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.barriers import transitions_done
from tests.e2e.chat_page import (
    ASSISTANT,
    REPLY_TIMEOUT_MS,
    USER,
    button,
    composer,
    conversation_id,
    open_chat,
    send_with_enter,
    unique_tag,
)
from tests.e2e.conftest import ARTIFACTS, ServedApp
from tests.e2e.test_accessibility_browser import _axe
from tests.files import samples

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LISTED = "#attach-tray .attach-chip[data-attachment-id]"

# Every value an upload's progress bar shows, from page load on.
PROGRESS_LOG_SCRIPT = """
window.__progress = [];
new MutationObserver(() => {
  for (const bar of document.querySelectorAll('.attach-progress')) {
    const last = window.__progress[window.__progress.length - 1];
    if (last !== bar.value) window.__progress.push(bar.value);
  }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""

# A DataTransfer holding files given as [name, type, base64], dispatched as `kind`.
FILES_EVENT_SCRIPT = """
([selector, kind, files]) => {
  const dt = new DataTransfer();
  for (const [name, type, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], name, {type}));
  }
  const target = document.querySelector(selector);
  if (kind === 'paste') {
    target.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true,
      cancelable: true}));
  } else {
    target.dispatchEvent(new DragEvent(kind, {dataTransfer: dt, bubbles: true,
      cancelable: true}));
  }
}
"""


def _files(*files: tuple[str, str, bytes]) -> list[list[str]]:
    return [[name, kind, base64.b64encode(data).decode()] for name, kind, data in files]


def _dispatch(page: Page, selector: str, kind: str, *files: tuple[str, str, bytes]) -> None:
    page.evaluate(FILES_EVENT_SCRIPT, [selector, kind, _files(*files)])


def _attach_button_fits(page: Page) -> None:
    """The paperclip is inside the viewport and at least 32 px square."""
    attach = button(page, "Attach files")
    expect(attach).to_be_visible()
    box = attach.bounding_box()
    viewport = page.viewport_size
    assert box and viewport
    assert box["width"] >= 32 and box["height"] >= 32, box
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    assert box["y"] + box["height"] <= viewport["height"], box


def _request(app: ServedApp, tag: str) -> Any:
    """The simulator's record of the request with this tag: its last user message's blocks
    (base64 data replaced by its length) and a summary of its files."""
    (record,) = app.wait_for_records(tag, lambda r: len(r) == 1 and r[0]["finished"])
    return record


def test_picker_uploads_with_progress_and_a_pdf_reaches_claude(page: Page, served_app: ServedApp):
    page.set_viewport_size(DESKTOP)
    page.add_init_script(PROGRESS_LOG_SCRIPT)
    open_chat(page, served_app)
    _attach_button_fits(page)
    # A slow uplink, so the upload's progress can be seen moving.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 400_000},
    )
    big_text = ("A line of notes to read. " * 40 + "\n").encode() * 1200  # ~1.2 MB
    report = samples.pdf(pages=2)
    with page.expect_file_chooser() as chooser:
        button(page, "Attach files").click()
    chooser.value.set_files(
        [
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": big_text},
            {"name": "report.pdf", "mimeType": "application/pdf", "buffer": report},
        ]
    )
    expect(page.locator(".attach-upload .attach-progress").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "attachments-uploading.png"))
    # Enter while the files upload: held back (the message would go without them), said
    send_with_enter(page, "Too soon")
    expect(page.locator("#message-error")).to_have_text(
        "Wait for your files to finish uploading, then send."
    )
    expect(page.locator(LISTED)).to_have_count(2, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".attach-upload")).to_have_count(0)  # the server's chips replaced them
    expect(page.locator("#message-error")).to_have_text("")
    expect(page.locator(USER)).to_have_count(0)
    expect(composer(page)).to_have_value("Too soon")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    progress = page.evaluate("window.__progress")
    assert any(0 < value < 100 for value in progress), progress  # seen part-way
    expect(page.locator(LISTED).filter(has_text="report.pdf")).to_contain_text(
        f"{len(report)} bytes"
    )

    tag = unique_tag("attach-pdf")
    send_with_enter(page, f"Summarise these [[sim tokens=20 tps=400 ttft=0 tag={tag}]]")
    expect(page.locator(LISTED)).to_have_count(0)  # the tray emptied into the message
    record = _request(served_app, tag)
    blocks = record["messages"][-1]["content"]
    assert [b["type"] for b in blocks] == ["document", "document", "text"], blocks
    assert blocks[0]["source"]["type"] == "text" and blocks[0]["title"] == "notes.txt"
    assert blocks[1]["source"]["type"] == "base64"
    assert blocks[1]["source"]["media_type"] == "application/pdf"
    summary = [(a["media_type"], a["title"], a.get("pages")) for a in record["attachments"]]
    assert summary == [("text/plain", "notes.txt", None), ("application/pdf", "report.pdf", 2)]
    assert record["attachments"][1]["bytes"] == len(report)
    reply = page.locator(ASSISTANT).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=REPLY_TIMEOUT_MS)
    expect(reply).to_contain_text("report.pdf")  # the simulator names what it received

    chips = page.locator(USER).last.locator(".file-chip")
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).to_contain_text("report.pdf")
    href = chips.nth(1).get_attribute("href")
    assert href and re.fullmatch(r"/_files/[0-9a-f]{32}", href), href
    download = page.request.get(served_app.url(href))
    assert download.status == 200 and download.body() == report
    page.screenshot(path=str(ARTIFACTS / "attachments-sent.png"))


def test_drop_and_paste_attach_images_whose_thumbnails_survive_reload(
    page: Page, served_app: ServedApp
):
    page.set_viewport_size(PHONE)
    open_chat(page, served_app)
    _attach_button_fits(page)
    photo = samples.png(64, 48, "red")
    _dispatch(page, "#messages", "dragenter", ("photo.png", "image/png", photo))
    expect(page.locator("#drop-zone")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "attachments-drop-zone-phone.png"))
    _dispatch(page, "#messages", "drop", ("photo.png", "image/png", photo))
    expect(page.locator("#drop-zone")).to_be_hidden()
    expect(page.locator(LISTED)).to_have_count(1)

    tag = unique_tag("attach-img")
    text = f"What is in these pictures? [[sim tokens=10 tps=400 ttft=0 tag={tag}]]"
    composer(page).fill(text)
    pasted = samples.png(20, 20, "blue")
    _dispatch(page, "#message", "paste", ("image.png", "image/png", pasted))
    expect(page.locator(LISTED)).to_have_count(2)
    expect(composer(page)).to_have_value(text)  # the file's name was not pasted as text
    expect(page.locator(f"{LISTED} img.attach-thumb")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "attachments-tray-phone.png"))
    assert _axe(page, "attachments-tray-phone") == []

    composer(page).press("Enter")
    record = _request(served_app, tag)
    blocks = record["messages"][-1]["content"]
    assert [b["type"] for b in blocks] == ["image", "image", "text"], blocks
    # in the order given: the dropped photo, then the pasted image
    sizes = [(a["media_type"], a["bytes"]) for a in record["attachments"]]
    assert sizes == [("image/png", len(photo)), ("image/png", len(pasted))]
    expect(page.locator(ASSISTANT).last).to_have_attribute(
        "data-status", "complete", timeout=REPLY_TIMEOUT_MS
    )
    conversation_id(page)  # the conversation has its URL: a reload reopens it

    page.reload()
    thumbs = page.locator(f"{USER} a.file-thumb img")
    expect(thumbs).to_have_count(2)
    expect(thumbs.first).to_have_attribute("loading", "lazy")
    thumbs.first.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.querySelectorAll('a.file-thumb img')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    href = page.locator(f"{USER} a.file-thumb").first.get_attribute("href")
    assert href and re.fullmatch(r"/_files/[0-9a-f]{32}", href), href
    page.screenshot(path=str(ARTIFACTS / "attachments-reloaded-phone.png"))
    assert _axe(page, "attachments-sent-phone") == []


def test_too_large_and_unsupported_files_are_refused_before_upload(
    page: Page, served_app: ServedApp
):
    page.set_viewport_size(DESKTOP)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    open_chat(page, served_app)
    huge = b"\x89PNG\r\n\x1a\n" + bytes(4_000_000)  # over the 3.9 MB image limit
    page.locator(".attach-input").set_input_files(
        [
            {"name": "huge.png", "mimeType": "image/png", "buffer": huge},
            {"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90"},
        ]
    )
    errors = page.locator(".attach-upload[data-state=error] .attach-error")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_have_text(re.compile(r"“huge\.png” is 4 MB; images can be at most"))
    expect(errors.nth(1)).to_contain_text("“tool.exe” isn't a supported file")
    assert not [url for url in posted if "/_files" in url], posted  # nothing was uploaded
    expect(page.locator(LISTED)).to_have_count(0)
    assert _axe(page, "attachments-refused") == []
    page.get_by_role("button", name="Toggle dark mode", exact=True).click()
    page.wait_for_function("document.documentElement.classList.contains('dark')")
    transitions_done(page)
    assert _axe(page, "attachments-refused-dark") == []
    page.get_by_role("button", name="Remove huge.png").click()
    expect(errors).to_have_count(1)

    # Files alone are a message (as on claude.ai): Enter in the empty box sends them.
    page.locator(".attach-input").set_input_files(
        [{"name": "notes.md", "mimeType": "text/markdown", "buffer": b"# Notes\n- one\n"}]
    )
    expect(page.locator(LISTED)).to_have_count(1)
    composer(page).press("Enter")
    question = page.locator(USER)
    expect(question.locator(".file-chip")).to_have_text(re.compile(r"notes\.md\s*14 bytes"))
    expect(errors).to_have_count(0)  # the refused file's note went with the send
    reply = page.locator(ASSISTANT).last
    expect(reply).to_have_attribute("data-status", "complete", timeout=REPLY_TIMEOUT_MS)
    expect(reply).to_contain_text('document "notes.md"')
