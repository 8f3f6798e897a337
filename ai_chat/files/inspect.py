"""What an uploaded file is, judged by its bytes (never only by the name or the type the
browser says), and whether Claude accepts it (limits: Settings.attachment_*)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import unicodedata

from ai_chat.config import Settings
from ai_chat.store.models import AttachmentKind

THUMB_PX = 256
MAX_IMAGE_SIDE_PX = 8000  # the API refuses larger images
# Text and code files: sent as a plain-text document. By name, since their bytes don't say.
TEXT_EXTENSIONS = frozenset(
    (
        "txt text md markdown rst csv tsv json jsonl ndjson yaml yml toml ini cfg conf log "
        "xml html htm css scss less js mjs cjs jsx ts tsx py pyi ipynb rb go rs java kt kts "
        "scala c h cc cpp cxx hpp hh cs swift m mm php pl pm r sql sh bash zsh fish ps1 bat "
        "lua dart ex exs erl hs clj vue svelte tex bib diff patch gitignore dockerfile "
        "makefile gradle properties env srt vtt"
    ).split()
)
TEXT_NAMES = frozenset(("makefile", "dockerfile", "readme", "license", "changelog"))
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
SUPPORTED = "images (PNG, JPEG, GIF, WebP), PDFs, and text or code files"
# A PDF's pages by its sha256, counted on upload or at a turn's start (bytes never change).
PAGE_COUNTS: dict[str, int] = {}
_PAGE_COUNTS_MAX = 4096


class Refused(ValueError):
    """A file that can't be attached. `str()` is the sentence for the user; `status` the
    HTTP status (400 unsupported or unreadable, 413 too large)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class Inspected:
    kind: AttachmentKind
    media_type: str
    filename: str
    sha256: str
    pages: int = 0  # PDFs
    thumb: tuple[str, bytes] | None = None  # (sha256, WebP bytes) for images


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB".replace(".0 MB", " MB")


def clean_filename(name: str) -> str:
    """A name safe to show and to put in a header: the last path part, no control
    characters, at most 255 characters (the extension kept)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C"
    )
    name = name.strip().rstrip(". ")  # a leading dot is a dotfile's (.env), kept
    if not name.strip("."):
        name = "file"
    if len(name) > 255:
        stem, ext = os.path.splitext(name)
        name = stem[: 255 - len(ext[:20])] + ext[:20]
    return name


def sniff(data: bytes) -> str:
    """The media type the bytes say: an image, a PDF, or ""."""
    for signature, media_type in IMAGE_SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:1024].lstrip(b"\x00\t\n\r\f ").startswith(b"%PDF-"):
        return "application/pdf"
    return ""


def _is_text_name(filename: str) -> bool:
    lower = filename.lower()
    ext = lower.rsplit(".", 1)[-1] if "." in lower else ""
    return ext in TEXT_EXTENSIONS or lower in TEXT_NAMES or lower.startswith(".")


def inspect(data: bytes, filename: str, declared_type: str, settings: Settings) -> Inspected:
    """Kind, media type and checks of an upload; raises Refused with the reason."""
    filename = clean_filename(filename)
    if not data:
        raise Refused(f"“{filename}” is empty.")
    sha256 = hashlib.sha256(data).hexdigest()
    media_type = sniff(data)
    if media_type.startswith("image/"):
        if len(data) > settings.attachment_image_max_bytes:
            raise Refused(
                f"“{filename}” is {megabytes(len(data))}; images can be at most "
                f"{megabytes(settings.attachment_image_max_bytes)}.",
                413,
            )
        thumb = thumbnail(data, filename)
        return Inspected(AttachmentKind.IMAGE, media_type, filename, sha256, thumb=thumb)
    if media_type == "application/pdf":
        if len(data) > settings.attachment_pdf_max_bytes:
            raise Refused(
                f"“{filename}” is {megabytes(len(data))}; PDFs can be at most "
                f"{megabytes(settings.attachment_pdf_max_bytes)}.",
                413,
            )
        pages = pdf_pages(data, filename)
        remember_pages(sha256, pages)
        if pages > settings.attachment_pdf_max_pages:
            raise Refused(
                f"“{filename}” has {pages} pages; Claude reads at most "
                f"{settings.attachment_pdf_max_pages} pages of PDFs per message."
            )
        return Inspected(AttachmentKind.PDF, media_type, filename, sha256, pages=pages)
    if declared_type.lower().startswith("image/") and not _is_text_name(filename):
        raise Refused(f"“{filename}” isn't a PNG, JPEG, GIF or WebP image. Supported: {SUPPORTED}.")
    if not (_is_text_name(filename) or declared_type.lower().startswith("text/")):
        raise Refused(f"“{filename}” isn't a supported file. Supported: {SUPPORTED}.")
    if len(data) > settings.attachment_text_max_bytes:
        raise Refused(
            f"“{filename}” is {megabytes(len(data))}; text files can be at most "
            f"{megabytes(settings.attachment_text_max_bytes)}.",
            413,
        )
    if b"\x00" in data:
        raise Refused(f"“{filename}” isn't a text file (it has binary content).")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"“{filename}” isn't UTF-8 text; save it as UTF-8 and try again.") from None
    return Inspected(AttachmentKind.TEXT, "text/plain", filename, sha256)


def text_of(data: bytes) -> str:
    """A text attachment's text, as sent to Claude (no byte-order mark)."""
    return data.decode("utf-8").removeprefix("\ufeff")


def thumbnail(data: bytes, filename: str = "image") -> tuple[str, bytes]:
    """A WebP preview at most THUMB_PX on its long side, and its sha256. Raises Refused for
    an image Pillow can't read or one larger than the API accepts."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if max(width, height) > MAX_IMAGE_SIDE_PX:
                raise Refused(
                    f"“{filename}” is {width}×{height} pixels; Claude accepts at most "
                    f"{MAX_IMAGE_SIDE_PX}×{MAX_IMAGE_SIDE_PX}."
                )
            image.draft("RGB", (THUMB_PX * 2, THUMB_PX * 2))  # JPEG: decode at a lower scale
            frame = ImageOps.exif_transpose(image)
            frame.thumbnail((THUMB_PX, THUMB_PX))
            if frame.mode not in ("RGB", "RGBA"):
                frame = frame.convert("RGBA" if "transparency" in frame.info else "RGB")
            out = io.BytesIO()
            frame.save(out, format="WEBP", quality=80)
    except Refused:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for a broken file
        raise Refused(f"“{filename}” could not be read as an image.") from None
    thumb = out.getvalue()
    return hashlib.sha256(thumb).hexdigest(), thumb


def remember_pages(sha256: str, pages: int) -> None:
    if len(PAGE_COUNTS) >= _PAGE_COUNTS_MAX:
        PAGE_COUNTS.clear()
    PAGE_COUNTS[sha256] = pages


def pdf_pages(data: bytes, filename: str = "document.pdf") -> int:
    """Pages of a PDF; Refused for a broken or password-protected one."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise Refused(f"“{filename}” is password-protected; Claude can't read it.")
        return len(reader.pages)
    except Refused:
        raise
    except Exception:  # noqa: BLE001 - pypdf raises many kinds for a broken file
        raise Refused(f"“{filename}” could not be read as a PDF.") from None
