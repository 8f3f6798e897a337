"""What reaches the event socket: allowlisted headers only; the proxy's word only from it."""

from __future__ import annotations

import pytest

from ai_chat.auth.asgi import guarded_headers
from ai_chat.auth.identity import PROXY_COOKIE
from ai_chat.generation import runtime


@pytest.fixture
def proxy_mode(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AI_CHAT_AUTH", "proxy")
    monkeypatch.setenv("AI_CHAT_PROXY_ADDRESSES", "10.0.0.5")
    runtime.reset()
    yield
    runtime.reset()


def scope(path: str, client: str, *headers: tuple[bytes, bytes]) -> dict:
    return {"type": "websocket", "path": path, "client": (client, 4000), "headers": list(headers)}


def test_socket_headers_outside_the_allowlist_never_reach_the_page():
    headers = dict(
        guarded_headers(
            scope(
                "/_event/",
                "127.0.0.1",
                (b"Host", b"app"),
                (b"Origin", b"http://app"),
                (b"X-Internal-Secret", b"s3cret"),
                (b"X-Forwarded-Email", b"a@example.com"),
                (b"Cookie", b"ai_chat_session=abc"),
            )
        )
    )
    assert headers == {b"host": b"app", b"origin": b"http://app", b"cookie": b"ai_chat_session=abc"}


def test_other_paths_keep_their_headers():
    headers = dict(guarded_headers(scope("/_auth/signin", "127.0.0.1", (b"X-Custom", b"1"))))
    assert headers == {b"x-custom": b"1"}


def test_a_forged_proxy_cookie_is_removed_in_every_mode():
    headers = dict(
        guarded_headers(
            scope("/_event/", "127.0.0.1", (b"cookie", f"{PROXY_COOKIE}=admin; a=b".encode()))
        )
    )
    assert headers == {b"cookie": b"a=b"}


def test_proxy_header_is_believed_only_from_the_proxy(proxy_mode):
    from_proxy = dict(
        guarded_headers(
            scope("/_event/", "10.0.0.5", (b"x-forwarded-user", b"Alice"), (b"cookie", b"a=b"))
        )
    )
    assert from_proxy[b"cookie"] == f"a=b; {PROXY_COOKIE}=alice".encode()
    assert b"x-forwarded-user" not in from_proxy  # the identity never reaches the page
    from_elsewhere = dict(
        guarded_headers(scope("/_event/", "10.0.0.6", (b"x-forwarded-user", b"alice")))
    )
    assert from_elsewhere == {}


def test_proxy_header_is_ignored_outside_proxy_mode():
    headers = dict(guarded_headers(scope("/_event/", "127.0.0.1", (b"x-forwarded-user", b"alice"))))
    assert headers == {}
