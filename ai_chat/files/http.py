"""`POST /_files` (upload one file), `GET /_files/{id}` (its bytes), `GET /_files/{id}/thumb`
(an image's preview), `DELETE /_files/{id}` (an unsent file removed). Mounted through the
app's Starlette routes (ai_chat/ai_chat.py), inside the ASGI guard.

Only the owner reads a file: anyone else, and unknown ids, get 404. An upload must come from
the app's own pages (origins.py) and is refused as too large from its Content-Length, or
while it streams, before the whole body is read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ai_chat.auth import identity
from ai_chat.auth.identity import Identity
from ai_chat.config import Settings, get_settings
from ai_chat.files.inspect import Inspected, Refused, inspect, megabytes
from ai_chat.origins import origin_allowed
from ai_chat.store import attachment_cleanup as cleanup
from ai_chat.store import attachments as store
from ai_chat.store.db import run_read, run_write
from ai_chat.store.models import Attachment, AttachmentKind, utcnow

log = logging.getLogger(__name__)
PREFIX = store.FILES_PREFIX
MULTIPART_OVERHEAD = 64 * 1024  # the form's boundaries and headers around the file
CACHE = "private, max-age=31536000, immutable"  # a file's bytes never change
UNSENT_KEPT = timedelta(days=1)
MAX_UNSENT = 100  # a user's uploads not sent yet (a day's worth at most: then swept)
SWEEP_EVERY_S = 3600.0
_last_sweep = [0.0]


class _TooLarge(Exception):
    pass


def max_upload_bytes(settings: Settings) -> int:
    largest = max(
        settings.attachment_image_max_bytes,
        settings.attachment_pdf_max_bytes,
        settings.attachment_text_max_bytes,
    )
    return largest + MULTIPART_OVERHEAD


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _too_large(limit: int) -> JSONResponse:
    return _error(
        f"That file is too large: files can be at most {megabytes(limit - MULTIPART_OVERHEAD)}.",
        413,
    )


async def _who(request: Request) -> Identity | None:
    return await identity.resolve(request.headers.get("cookie", ""))


def _counting(receive: Callable[[], Awaitable[MutableMapping[str, Any]]], limit: int) -> Any:
    """`receive` that stops a body growing past `limit` (a client may lie about its length
    or send it chunked)."""
    seen = 0

    async def counted() -> MutableMapping[str, Any]:
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
        return message

    return counted


async def upload(request: Request) -> Response:
    settings = get_settings()
    if not origin_allowed(request):
        return _error("This upload didn't come from the app's own page.", 403)
    if (who := await _who(request)) is None:
        return _error("Sign in to attach files.", 401)
    if await run_read(cleanup.unsent_count_sync, who.user_id) >= MAX_UNSENT:
        return _error(
            f"You have {MAX_UNSENT} files waiting to be sent: send or remove some first.", 429
        )
    limit = max_upload_bytes(settings)
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        return _error("The upload was malformed.", 400)
    if declared > limit:
        return _too_large(limit)
    counted = Request(request.scope, _counting(request.receive, limit))
    try:
        form = await counted.form(max_files=1, max_fields=4)
        part = form.get("file")
        if not isinstance(part, UploadFile):
            return _error("No file was received.", 400)
        data = await part.read()
        # Browsers send a name's `"` as %22 in the form (HTML's multipart encoding).
        filename = (part.filename or "file").replace("%22", '"')
        declared_type = part.content_type or ""
        await form.close()
    except _TooLarge:
        return _too_large(limit)
    except Exception:
        log.info("unreadable upload", exc_info=True)
        return _error("The upload was malformed.", 400)
    try:
        # Pillow and pypdf take a while on large files: off the event loop.
        found = await asyncio.to_thread(inspect, data, filename, declared_type, settings)
    except Refused as exc:
        return _error(str(exc), exc.status)
    attachment = await run_write(_store, who.user_id, data, found)
    await _sweep_now_and_then()
    return JSONResponse(store.view(attachment).as_dict(), status_code=201)


def _store(session: Any, owner: str, data: bytes, found: Inspected) -> Attachment:
    return store.store_upload_sync(
        session,
        owner,
        data=data,
        sha256=found.sha256,
        filename=found.filename,
        media_type=found.media_type,
        kind=found.kind,
        thumb=found.thumb,
    )


async def _sweep_now_and_then() -> None:
    """Uploads never sent go after a day (checked at most hourly per worker, on upload)."""
    now = time.monotonic()
    if now - _last_sweep[0] < SWEEP_EVERY_S:
        return
    _last_sweep[0] = now
    try:
        swept = await run_write(cleanup.sweep_unsent_sync, utcnow() - UNSENT_KEPT)
        if swept:
            log.info("swept %d unsent uploads", swept)
    except Exception:
        log.warning("sweeping unsent uploads failed", exc_info=True)


def _disposition(attachment: Attachment) -> str:
    how = "attachment" if attachment.kind == AttachmentKind.TEXT.value else "inline"
    name = attachment.filename
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"{how}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _served_type(attachment: Attachment) -> str:
    # Only the types the upload checked by their bytes; text is never served as HTML/SVG.
    if attachment.kind == AttachmentKind.TEXT.value:
        return "text/plain; charset=utf-8"
    return attachment.media_type


async def _owned(request: Request) -> tuple[Attachment | None, Response | None]:
    if (who := await _who(request)) is None:
        return None, _error("Sign in to see this file.", 401)
    attachment_id = str(request.path_params.get("attachment_id", ""))
    found = await run_read(store.get_owned_sync, who.user_id, attachment_id)
    if found is None:
        return None, _error("No such file.", 404)
    return found, None


async def _blob_response(request: Request, sha256: str, **headers: str) -> Response:
    """The blob's bytes, or 304 when the browser has them (read only when it hasn't)."""
    etag = f'"{sha256}"'
    common = {
        "ETag": etag,
        "Cache-Control": CACHE,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=common)
    data = await run_read(store.blob_sync, sha256)
    if data is None:
        return _error("No such file.", 404)
    return Response(data, headers={**common, **headers})


async def download(request: Request) -> Response:
    attachment, refused = await _owned(request)
    if attachment is None:
        assert refused is not None
        return refused
    headers = {
        "Content-Type": _served_type(attachment),
        "Content-Disposition": _disposition(attachment),
    }
    if attachment.kind != AttachmentKind.PDF.value:  # the browser's PDF viewer needs scripts
        headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return await _blob_response(request, attachment.sha256, **headers)


async def preview(request: Request) -> Response:
    attachment, refused = await _owned(request)
    if attachment is None:
        assert refused is not None
        return refused
    if not attachment.thumb_sha256:
        return _error("This file has no preview.", 404)
    headers = {
        "Content-Type": "image/webp",
        "Content-Disposition": "inline",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return await _blob_response(request, attachment.thumb_sha256, **headers)


async def remove(request: Request) -> Response:
    """An unsent file taken off the message before sending."""
    if not origin_allowed(request):
        return _error("This request didn't come from the app's own page.", 403)
    if (who := await _who(request)) is None:
        return _error("Sign in to remove files.", 401)
    attachment_id = str(request.path_params.get("attachment_id", ""))[:32]
    if not await run_write(store.delete_unsent_sync, who.user_id, attachment_id):
        return _error("No such unsent file.", 404)
    return Response(status_code=204)


def routes() -> list[Route]:
    return [
        Route(PREFIX, upload, methods=["POST"]),
        Route(f"{PREFIX}/{{attachment_id}}", download, methods=["GET"]),
        Route(f"{PREFIX}/{{attachment_id}}", remove, methods=["DELETE"]),
        Route(f"{PREFIX}/{{attachment_id}}/thumb", preview, methods=["GET"]),
    ]
