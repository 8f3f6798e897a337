"""Image and document blocks, as the Messages API takes them: checked like the API does (a
bad block is a 400 invalid_request_error), named in the reply ("I received 2 attachments:
…") so tests can check what reached Claude, and summarized in the records (without the
bytes: a record keeps types, titles and sizes)."""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_IMAGE_BASE64 = 5 * 1024 * 1024  # the API's limit, on the base64 text
MAX_PDF_PAGES = 100  # per request
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def _decoded(data: Any, where: str) -> bytes:
    if not isinstance(data, str) or not data:
        raise ValueError(f"{where}.source.data: a non-empty base64 string is required")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}.source.data: invalid base64 data") from None


def pdf_pages(data: bytes) -> int:
    try:
        from pypdf import PdfReader

        return len(PdfReader(io.BytesIO(data)).pages)
    except Exception:  # noqa: BLE001 - a PDF pypdf can't read: count its page objects
        return len(_PAGE.findall(data))


def _image(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict) or source.get("type") not in ("base64", "url"):
        raise ValueError(f"{where}.source: expected a base64 or url source")
    if source["type"] == "url":
        return {"type": "image", "media_type": "url", "bytes": 0}
    media_type = source.get("media_type")
    if media_type not in IMAGE_TYPES:
        raise ValueError(f"{where}.source.media_type: Input should be one of {IMAGE_TYPES}")
    if isinstance(source.get("data"), str) and len(source["data"]) > MAX_IMAGE_BASE64:
        raise ValueError(f"{where}.source.data: image exceeds 5 MB maximum")
    data = _decoded(source.get("data"), where)
    return {"type": "image", "media_type": media_type, "bytes": len(data)}


def _document(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    title = block.get("title")
    if title is not None and not isinstance(title, str):
        raise ValueError(f"{where}.title: Input should be a valid string")
    if not isinstance(source, dict):
        raise ValueError(f"{where}.source: Field required")
    kind, media_type = source.get("type"), source.get("media_type")
    if kind == "text":
        if media_type != "text/plain" or not isinstance(source.get("data"), str):
            raise ValueError(f"{where}.source: a text source needs media_type text/plain and data")
        text: str = source["data"]
        return {"type": "document", "media_type": media_type, "title": title, "chars": len(text)}
    if kind == "base64":
        if media_type != "application/pdf":
            raise ValueError(f"{where}.source.media_type: Input should be 'application/pdf'")
        data = _decoded(source.get("data"), where)
        if not data.lstrip().startswith(b"%PDF-"):
            raise ValueError(f"{where}: The PDF specified was not valid.")
        pages = pdf_pages(data)
        return {
            "type": "document",
            "media_type": media_type,
            "title": title,
            "bytes": len(data),
            "pages": pages,
        }
    raise ValueError(f"{where}.source.type: expected 'base64' or 'text'")


def attachments_of(messages: Any) -> list[dict[str, Any]]:
    """Every image and document block of the request, summarized, with the index of its
    message. Raises ValueError (the API's 400) for a malformed one."""
    found: list[dict[str, Any]] = []
    if not isinstance(messages, list):
        return found
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for j, block in enumerate(content):
            where = f"messages.{i}.content.{j}"
            if not isinstance(block, dict):
                raise ValueError(f"{where}: Input should be an object")
            kind = block.get("type")
            if kind == "text" and not isinstance(block.get("text"), str):
                raise ValueError(f"{where}.text: Field required")
            if kind in ("image", "document") and message.get("role") != "user":
                raise ValueError(f"{where}: {kind} blocks are only allowed in user messages")
            if kind == "image":
                found.append({"message": i, **_image(block, where)})
            elif kind == "document":
                found.append({"message": i, **_document(block, where)})
    pages = sum(a.get("pages", 0) for a in found)
    if pages > MAX_PDF_PAGES:
        raise ValueError(f"A maximum of {MAX_PDF_PAGES} PDF pages may be provided.")
    return found


def _named(item: dict[str, Any]) -> str:
    if item["type"] == "image":
        return f"{item['media_type']} image ({item['bytes']:,} bytes)"
    title = f'"{item["title"]}" ' if item.get("title") else ""
    if "pages" in item:
        pages = item["pages"]
        return f"document {title}({item['media_type']}, {pages} page{'s' if pages != 1 else ''})"
    return f"document {title}({item['media_type']}, {item['chars']:,} characters)"


def received(found: list[dict[str, Any]], messages: Any) -> str:
    """The reply's opening line naming the last user message's files ("" without any)."""
    if not isinstance(messages, list) or not messages:
        return ""
    last = len(messages) - 1
    mine = [item for item in found if item["message"] == last]
    if not mine:
        return ""
    count = f"{len(mine)} attachment{'s' if len(mine) != 1 else ''}"
    return f"I received {count}: {', '.join(_named(item) for item in mine)}."


def without_data(messages: Any) -> Any:
    """`messages` for the records: each base64 source's data replaced by its length, so a
    record keeps the request's shape, not its megabytes."""
    if not isinstance(messages, list):
        return messages
    out: list[Any] = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            out.append(message)
            continue
        blocks = []
        for block in content:
            source = block.get("source") if isinstance(block, dict) else None
            if isinstance(source, dict) and source.get("type") == "base64":
                data = source.get("data")
                size = len(data) if isinstance(data, str) else 0
                block = {**block, "source": {**source, "data": f"<{size} base64 characters>"}}
            blocks.append(block)
        out.append({**message, "content": blocks})
    return out
