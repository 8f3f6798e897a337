"""/_files over HTTP (the ASGI app in process, behind the guard): upload each type, limits,
owner-only downloads, origin and sign-in checks. SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from ai_chat.auth import accounts, identity
from ai_chat.auth.asgi import guard
from ai_chat.files import http
from ai_chat.store import attachments as store
from ai_chat.store.db import run_read
from tests.files import samples

APP_ORIGIN = "http://127.0.0.1:8000"
SAME_ORIGIN = {"Origin": APP_ORIGIN}


@pytest.fixture
async def client(accounts_db, monkeypatch):
    monkeypatch.setenv("AI_CHAT_ATTACHMENT_IMAGE_MAX_BYTES", "200000")
    monkeypatch.setenv("AI_CHAT_ATTACHMENT_PDF_MAX_PAGES", "5")
    from ai_chat.config import get_settings

    get_settings.cache_clear()
    app = guard(Starlette(routes=http.routes()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=APP_ORIGIN) as c:
        yield c
    get_settings.cache_clear()


async def _cookie(username: str, first: bool = False) -> dict[str, str]:
    if first:
        token = await accounts.create_first_admin(username, "password123")
    else:
        await accounts.create_user(username, "password123")
        token = await accounts.sign_in(username, "password123")
    return {"Cookie": f"{identity.SESSION_COOKIE}={token}"}


@pytest.fixture
async def alice(client) -> dict[str, str]:
    return await _cookie("alice", first=True)


async def _upload(client, cookie, name, data, content_type="application/octet-stream", **headers):
    return await client.post(
        "/_files",
        files={"file": (name, data, content_type)},
        headers={**SAME_ORIGIN, **cookie, **headers},
    )


@pytest.mark.parametrize(
    ("name", "make", "media_type", "kind"),
    [
        ("photo.png", lambda: samples.png(), "image/png", "image"),
        ("photo.jpg", lambda: samples.image("JPEG"), "image/jpeg", "image"),
        ("anim.gif", lambda: samples.image("GIF"), "image/gif", "image"),
        ("pic.webp", lambda: samples.image("WEBP"), "image/webp", "image"),
        ("report.pdf", lambda: samples.pdf(2), "application/pdf", "pdf"),
        ("main.py", lambda: b"print('hi')\n", "text/plain", "text"),
    ],
)
async def test_each_type_uploads_and_downloads_for_its_owner(
    client, alice, name, make, media_type, kind
):
    data = make()
    response = await _upload(client, alice, name, data)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == kind and body["media_type"] == media_type
    assert body["filename"] == name and body["size"] == len(data)
    assert body["url"] == f"/_files/{body['id']}"
    got = await client.get(body["url"], headers=alice)
    assert got.status_code == 200 and got.content == data
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"] == "private, max-age=31536000, immutable"
    disposition = got.headers["content-disposition"]
    if kind == "text":
        assert got.headers["content-type"] == "text/plain; charset=utf-8"
        assert disposition.startswith("attachment;")
    else:
        assert got.headers["content-type"] == media_type
        assert disposition.startswith("inline;")
    assert name in disposition
    thumb = await client.get(f"{body['url']}/thumb", headers=alice)
    if kind == "image":
        assert body["thumb_url"] == f"{body['url']}/thumb"
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
        assert thumb.content[:4] == b"RIFF" and thumb.content[8:12] == b"WEBP"
    else:
        assert body["thumb_url"] == "" and thumb.status_code == 404


async def test_identical_bytes_are_stored_once(client, alice):
    data = samples.png()
    first = (await _upload(client, alice, "a.png", data)).json()
    second = (await _upload(client, alice, "b.png", data)).json()
    assert first["id"] != second["id"]
    rows = await run_read(store.pending_sync, "", [])  # nothing for nobody
    assert rows == []
    import sqlalchemy as sa

    from ai_chat.store.models import AttachmentBlob

    def count(session):
        return session.exec(sa.select(sa.func.count()).select_from(AttachmentBlob)).one()[0]

    assert await run_read(count) == 2  # the file and its preview, once each


async def test_wrong_magic_is_refused_whatever_the_name_says(client, alice):
    response = await _upload(client, alice, "photo.png", b"not really a png", "image/png")
    assert response.status_code == 400
    assert "isn't a PNG, JPEG, GIF or WebP image" in response.json()["error"]
    exe = await _upload(client, alice, "tool.exe", b"MZ\x90\x00binary", "application/x-msdos")
    assert exe.status_code == 400 and "isn't a supported file" in exe.json()["error"]
    svg = await _upload(client, alice, "x.svg", b"<svg onload=alert(1)></svg>", "image/svg+xml")
    assert svg.status_code == 400
    binary = await _upload(client, alice, "notes.txt", b"abc\x00def", "text/plain")
    assert binary.status_code == 400 and "binary content" in binary.json()["error"]
    broken = await _upload(client, alice, "doc.pdf", b"%PDF-1.7 garbage", "application/pdf")
    assert broken.status_code == 400 and "could not be read as a PDF" in broken.json()["error"]


async def test_too_large_is_refused_by_kind_and_by_content_length(client, alice):
    big = samples.png(1200, 1200, "white") + b"\x00" * 210_000  # trailing bytes: still a PNG
    response = await _upload(client, alice, "big.png", big)
    assert response.status_code == 413 and "images can be at most" in response.json()["error"]
    too_many_pages = await _upload(client, alice, "long.pdf", samples.pdf(6))
    assert too_many_pages.status_code == 400 and "6 pages" in too_many_pages.json()["error"]
    declared = await client.post(
        "/_files",
        content=b"x",
        headers={**SAME_ORIGIN, **alice, "Content-Length": str(100_000_000)},
    )
    assert declared.status_code == 413 and "too large" in declared.json()["error"]


async def test_a_body_longer_than_allowed_is_cut_off_while_streaming(client, alice):
    from ai_chat.config import get_settings

    limit = http.max_upload_bytes(get_settings())
    sent = 0

    async def body():
        nonlocal sent
        yield (
            b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n"
        )
        chunk = b"a" * 65536
        while sent < limit * 2:
            sent += len(chunk)
            yield chunk

    response = await client.post(
        "/_files",
        content=body(),
        headers={**SAME_ORIGIN, **alice, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413
    assert sent < limit * 2  # it stopped reading before the end


async def test_another_users_file_is_not_found(client, alice):
    bob = await _cookie("bob")
    body = (await _upload(client, alice, "secret.txt", b"alice only")).json()
    for path in (body["url"], f"{body['url']}/thumb", "/_files/unknown-id"):
        assert (await client.get(path, headers=bob)).status_code == 404
    refused = await client.delete(body["url"], headers={**SAME_ORIGIN, **bob})
    assert refused.status_code == 404
    assert (await client.get(body["url"], headers=alice)).status_code == 200


async def test_no_cookie_is_401_and_another_origin_is_403(client, alice):
    anonymous = await _upload(client, {}, "a.txt", b"hello")
    assert anonymous.status_code == 401 and anonymous.json()["error"]
    evil = await _upload(client, alice, "a.txt", b"hello", Origin="http://evil.example")
    assert evil.status_code == 403
    body = (await _upload(client, alice, "a.txt", b"hello")).json()
    assert (await client.get(body["url"])).status_code == 401


async def test_an_unsent_file_can_be_removed_by_its_owner(client, alice):
    body = (await _upload(client, alice, "a.txt", b"hello")).json()
    gone = await client.delete(body["url"], headers={**SAME_ORIGIN, **alice})
    assert gone.status_code == 204
    assert (await client.get(body["url"], headers=alice)).status_code == 404


async def test_a_cached_copy_is_confirmed_without_the_bytes(client, alice):
    body = (await _upload(client, alice, "a.png", samples.png())).json()
    first = await client.get(body["url"], headers=alice)
    again = await client.get(body["url"], headers={**alice, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_too_many_unsent_uploads_are_refused_until_some_are_sent(client, alice, monkeypatch):
    monkeypatch.setattr(http, "MAX_UNSENT", 2)
    for name in ("a.txt", "b.txt"):
        assert (await _upload(client, alice, name, name.encode())).status_code == 201
    refused = await _upload(client, alice, "c.txt", b"c")
    assert refused.status_code == 429 and "waiting to be sent" in refused.json()["error"]


async def test_a_non_ascii_name_survives_into_the_download_header(client, alice):
    body = (await _upload(client, alice, 'résumé "v2".md', b"# CV\n", "text/markdown")).json()
    assert body["filename"] == 'résumé "v2".md'
    got = await client.get(body["url"], headers=alice)
    disposition = got.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="r_sum_ _v2_.md"')
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.md" in disposition
