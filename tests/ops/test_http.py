"""GET /health (200 / 503 with the database or Redis unreachable) and who may read
GET /metrics, through the routes the app mounts (ai_chat/ops/http.py)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from ai_chat.ops import http as ops_http
from tests.conftest import redis_or_missing
from tests.support.servers import free_port


def client(address: str = "127.0.0.1", **headers: str) -> httpx.AsyncClient:
    app = Starlette(routes=ops_http.routes())
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://app", headers=headers)


@pytest.mark.redis
async def test_health_ok_with_database_and_redis(app_env):
    app_env(redis_url=await redis_or_missing())
    async with client() as http:
        answer = await http.get("/health")
    body = answer.json()
    assert answer.status_code == 200, body
    assert body["status"] == "ok" and body["db"]["ok"] and body["redis"]["ok"]


async def test_health_without_redis_configured_checks_the_database_only(app_env):
    async with client() as http:
        answer = await http.get("/health")
    assert answer.status_code == 200
    assert answer.json()["redis"] is None


async def test_health_503_when_redis_is_unreachable(app_env):
    app_env(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    async with client() as http:
        answer = await http.get("/health")
    body = answer.json()
    assert answer.status_code == 503, body
    assert body["status"] == "unavailable"
    assert body["db"]["ok"] is True
    assert body["redis"] == {"ok": False, "error": "ConnectionError"}


async def test_health_503_when_the_database_is_unreachable(app_env):
    app_env(db_url=f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    async with client() as http:
        answer = await http.get("/health")
    body = answer.json()
    assert answer.status_code == 503, body
    assert body["db"]["ok"] is False and body["db"]["error"]
    assert "127.0.0.1" not in answer.text  # the class of the error only, no details


async def test_metrics_from_this_machine(app_env):
    async with client("127.0.0.1") as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "ai_chat_replies_in_flight" in answer.text


async def test_metrics_refused_from_elsewhere_and_through_a_proxy(app_env):
    async with client("203.0.113.9") as http:
        assert (await http.get("/metrics")).status_code == 403
    # A reverse proxy on this machine: the peer is 127.0.0.1 but the visitor is not.
    async with client("127.0.0.1", **{"X-Forwarded-For": "203.0.113.9"}) as http:
        assert (await http.get("/metrics")).status_code == 403


async def test_metrics_token_opens_it_from_anywhere(app_env):
    app_env(metrics_token="s3cret-scrape")
    async with client("203.0.113.9", authorization="Bearer s3cret-scrape") as http:
        assert (await http.get("/metrics")).status_code == 200
    async with client("203.0.113.9", authorization="Bearer wrong") as http:
        assert (await http.get("/metrics")).status_code == 403
