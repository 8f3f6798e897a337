"""GET /health (database and Redis, 200 or 503, JSON) and GET /metrics (Prometheus text),
mounted through the app's Starlette routes (ai_chat/ai_chat.py).

/health is public (a load balancer asks it) and says only ok / the error's class. /metrics
answers the addresses in AI_CHAT_METRICS_ADDRESSES (default this machine), unless the
request came through a proxy (it carries Forwarded / X-Forwarded-For / X-Real-IP: behind a
reverse proxy every visitor would come from 127.0.0.1), and anyone sending
`Authorization: Bearer <AI_CHAT_METRICS_TOKEN>`.
"""

from __future__ import annotations

import asyncio
import hmac
import time
import weakref
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ai_chat.config import get_settings
from ai_chat.ops import metrics
from ai_chat.redis_monitor import pinged
from ai_chat.store.db import read_scope

CHECK_TIMEOUT_S = 2.0
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
_redis: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


async def _database() -> None:
    async with read_scope() as session:
        await session.execute(text("SELECT 1"))


async def _redis_ping(url: str) -> None:
    loop = asyncio.get_running_loop()
    if loop not in _redis:
        _redis[loop] = aioredis.Redis.from_url(
            url, socket_connect_timeout=CHECK_TIMEOUT_S, socket_timeout=CHECK_TIMEOUT_S
        )
    await pinged(_redis[loop])


async def _check(probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await probe
    except Exception as exc:  # noqa: BLE001 - any failure is "down"; the class says which
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


async def health(_request: Request) -> Response:
    redis_url = get_settings().redis_url
    checks = [_check(_database())]
    if redis_url:
        checks.append(_check(_redis_ping(redis_url)))
    results = await asyncio.gather(*checks)
    body: dict[str, Any] = {"db": results[0], "redis": results[1] if redis_url else None}
    ok = all(r["ok"] for r in results)
    body = {"status": "ok" if ok else "unavailable", **body}
    return JSONResponse(body, status_code=200 if ok else 503)


def may_read_metrics(request: Request) -> bool:
    settings = get_settings()
    given = request.headers.get("authorization", "")
    if settings.metrics_token and hmac.compare_digest(
        given.encode(), f"Bearer {settings.metrics_token}".encode()
    ):
        return True
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    client = request.client.host if request.client else ""
    return client in settings.metrics_addresses


async def metrics_endpoint(request: Request) -> Response:
    if not may_read_metrics(request):
        return PlainTextResponse(
            "Not allowed: see AI_CHAT_METRICS_ADDRESSES and AI_CHAT_METRICS_TOKEN.",
            status_code=403,
        )
    body, content_type = metrics.exposition()
    return Response(body, headers={"content-type": content_type})


def routes() -> list[Route]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
