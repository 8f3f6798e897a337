"""Origins: which pages may drive the app (AI_CHAT_ALLOWED_ORIGINS), for the event socket
(rxconfig.py -> engine.io) and the app's own HTTP endpoints (`ai_chat.origins`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.requests import Request

from ai_chat.config import load_settings, normalize_origin
from ai_chat.generation import runtime
from ai_chat.origins import origin_allowed

ROOT = Path(__file__).resolve().parents[1]
APP = ("http://localhost:8000", "http://127.0.0.1:8000")


def _request(headers: dict[str, str], method: str = "POST") -> Request:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return Request({"type": "http", "method": method, "path": "/x", "headers": raw})


# --- the setting ---------------------------------------------------------------------------


def test_the_default_is_this_machine_on_the_app_port():
    assert load_settings({}).allowed_origins == APP
    assert load_settings({"AI_CHAT_PORT": "9123"}).allowed_origins == (
        "http://localhost:9123",
        "http://127.0.0.1:9123",
    )


def test_configured_origins_are_written_as_browsers_send_them():
    env = {
        "AI_CHAT_ALLOWED_ORIGINS": " https://Chat.Example.com:443/ , http://10.0.0.5:8000/c/x,"
        "https://chat.example.com,http://bücher.de,http://[::1]:8000"
    }
    assert load_settings(env).allowed_origins == (
        "https://chat.example.com",
        "http://10.0.0.5:8000",
        "http://xn--bcher-kva.de",
        "http://[::1]:8000",
    )


@pytest.mark.parametrize(
    "bad", ["*", "chat.example.com", "ftp://x.org", "http://u:p@x.org", "null"]
)
def test_a_value_that_is_not_an_origin_fails_at_startup(bad: str):
    with pytest.raises(ValueError, match="AI_CHAT_ALLOWED_ORIGINS"):
        load_settings({"AI_CHAT_ALLOWED_ORIGINS": f"http://ok.example,{bad}"})


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("http://127.0.0.1:8000/c/abc?q=1#x", "http://127.0.0.1:8000"),
        ("HTTPS://EXAMPLE.COM:443", "https://example.com"),
        ("http://example.com:80/", "http://example.com"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("null", ""),
        ("", ""),
        ("http://x.org:notaport", ""),
        ("javascript:alert(1)", ""),
    ],
)
def test_normalize_origin(value: str, origin: str):
    assert normalize_origin(value) == origin


def test_rxconfig_hands_the_origins_to_reflex():
    """rxconfig's `cors_allowed_origins` (engine.io's handshake check and Reflex's CORS
    middleware alike) is the setting, never Reflex's default "*"."""
    probe = "import json, rxconfig; print(json.dumps(list(rxconfig.config.cors_allowed_origins)))"
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AI_CHAT_", "REFLEX_", "ANTHROPIC_"))
    }

    def run(**env: str) -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env={**clean, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])

    assert run(AI_CHAT_PORT="8123") == ["http://localhost:8123", "http://127.0.0.1:8123"]
    assert run(AI_CHAT_ALLOWED_ORIGINS="https://Chat.Example.com/") == ["https://chat.example.com"]


# --- origin_allowed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Origin": "http://127.0.0.1:8000"}, True),
        ({"Origin": "http://localhost:8000", "Referer": "http://evil.example/"}, True),
        ({"Origin": "http://evil.example"}, False),
        ({"Origin": "http://127.0.0.1:8001"}, False),  # another port is another origin
        ({"Origin": "https://127.0.0.1:8000"}, False),  # …and another scheme
        ({"Origin": "http://127.0.0.1.evil.example:8000"}, False),
        ({"Origin": "null"}, False),  # sandboxed frame, file:, redirected
        ({"Origin": ""}, False),
        ({"Origin": "http://evil.example", "Referer": "http://127.0.0.1:8000/"}, False),
        ({"Referer": "http://127.0.0.1:8000/c/abc?x=1"}, True),
        ({"Referer": "http://evil.example/?http://127.0.0.1:8000"}, False),
        ({"Referer": "http://evil.example/", "Sec-Fetch-Site": "same-origin"}, False),
        ({}, True),  # curl, a script: not a browser, no victim's cookies
        ({"User-Agent": "curl/8"}, True),
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "none"}, True),  # typed into the address bar
        ({"Sec-Fetch-Site": "cross-site"}, False),  # a browser's cross-site request
        ({"Sec-Fetch-Site": "same-site"}, False),  # another port or subdomain
    ],
)
def test_origin_allowed(headers: dict[str, str], allowed: bool):
    assert origin_allowed(_request(headers), allowed=APP) is allowed
    # the same answer from a plain mapping (any case), ASGI pairs and an ASGI scope
    assert origin_allowed({k.upper(): v for k, v in headers.items()}, allowed=APP) is allowed
    pairs = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    assert origin_allowed(pairs, allowed=APP) is allowed
    assert origin_allowed({"type": "http", "headers": pairs}, allowed=APP) is allowed


def test_the_first_of_repeated_headers_decides():
    request = _request({})
    request.scope["headers"] = [(b"origin", b"http://evil.example"), (b"origin", APP[1].encode())]
    assert origin_allowed(request, allowed=APP) is False


def test_allowed_defaults_to_the_settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AI_CHAT_ALLOWED_ORIGINS", "https://chat.example.com")
    runtime.reset()  # clears the cached settings
    try:
        assert origin_allowed({"Origin": "https://chat.example.com"})
        assert not origin_allowed({"Origin": "http://127.0.0.1:8000"})
    finally:
        monkeypatch.undo()
        runtime.reset()


def test_configured_origins_are_compared_normalized():
    assert origin_allowed({"Origin": "https://chat.example.com"}, ["https://CHAT.example.com:443/"])
    assert not origin_allowed({"Origin": "https://chat.example.com"}, ["*"])  # no wildcard
