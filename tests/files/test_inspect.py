"""What a file is, by its bytes; the names and limits checked before it is stored."""

from __future__ import annotations

import pytest

from ai_chat.config import load_settings
from ai_chat.files.inspect import Refused, clean_filename, inspect, sniff
from ai_chat.store.models import AttachmentKind
from tests.files import samples

SETTINGS = load_settings({})


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("C:\\Users\\me\\photo.png", "photo.png"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\nc.txt", "abc.txt"),
        (".env", ".env"),
        ("..", "file"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_file_names_are_cleaned(raw, clean):
    assert clean_filename(raw) == clean


def test_types_come_from_the_bytes():
    assert sniff(samples.png()) == "image/png"
    assert sniff(samples.image("JPEG")) == "image/jpeg"
    assert sniff(samples.image("GIF")) == "image/gif"
    assert sniff(samples.image("WEBP")) == "image/webp"
    assert sniff(samples.pdf(1)) == "application/pdf"
    assert sniff(b"<svg></svg>") == ""


def test_an_image_gets_a_small_webp_preview():
    found = inspect(samples.png(1000, 500), "wide.png", "image/png", SETTINGS)
    assert found.kind is AttachmentKind.IMAGE and found.thumb is not None
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(found.thumb[1])) as preview:
        assert preview.format == "WEBP" and preview.size == (256, 128)


def test_an_image_larger_than_the_api_accepts_is_refused():
    with pytest.raises(Refused, match="8000×8000"):
        inspect(samples.png(8001, 10), "tall.png", "image/png", SETTINGS)


@pytest.mark.parametrize(
    ("data", "name", "declared", "says"),
    [
        (b"\xff\xfe\x00h\x00i", "notes.txt", "text/plain", "binary content"),
        ("caf\xe9".encode("latin-1"), "notes.txt", "text/plain", "isn't UTF-8"),
        (b"", "empty.txt", "text/plain", "is empty"),
        (b"GIF87a broken", "x.gif", "image/gif", "could not be read as an image"),
        (b"print(1)", "tool.bin", "application/octet-stream", "isn't a supported file"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data, name, declared, says):
    with pytest.raises(Refused, match=says):
        inspect(data, name, declared, SETTINGS)


def test_text_by_extension_or_declared_type_and_a_dotfile():
    for name, declared in (("main.rs", ""), ("README", ""), ("data", "text/csv"), (".env", "")):
        found = inspect("héllo\n".encode(), name, declared, SETTINGS)
        assert found.kind is AttachmentKind.TEXT and found.media_type == "text/plain"


def test_a_password_protected_pdf_is_refused():
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt("secret")
    out = BytesIO()
    writer.write(out)
    with pytest.raises(Refused, match="password-protected"):
        inspect(out.getvalue(), "locked.pdf", "application/pdf", SETTINGS)
