"""Shared fixtures: the Claude simulator, SQLite and PostgreSQL databases, app settings.

Under CI=true a test whose service (PostgreSQL, Redis, Chromium) is missing FAILS
instead of skipping: a green CI must mean the real parts were exercised.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ai_chat.simulator.server import SimulatorServer
from ai_chat.store import migrations

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "AI_CHAT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("AI_CHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def service_missing(what: str, why: object) -> None:
    """Skip locally, fail in CI."""
    message = f"{what} is not available: {why}"
    if IN_CI:
        pytest.fail(message + " (CI=true: required)", pytrace=False)
    pytest.skip(message)


async def redis_or_missing() -> str:
    """REDIS_URL once Redis answers a ping (else `service_missing`)."""
    import redis.asyncio as aioredis

    probe = aioredis.Redis.from_url(REDIS_URL)
    try:
        await probe.ping()
    except Exception as exc:  # noqa: BLE001
        service_missing(f"Redis at {REDIS_URL}", exc)
    finally:
        await probe.aclose()
    return REDIS_URL


@pytest.fixture(scope="session")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database per test, dropped afterwards."""
    with fresh_postgres("ai_chat_test") as url:
        yield url


@contextlib.contextmanager
def fresh_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database (`service_missing` if the server doesn't answer),
    dropped afterwards, even with connections still open."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        service_missing("PostgreSQL at 127.0.0.1:5432", exc)
    url = sa.make_url(PG_ADMIN_URL).set(database=name)
    try:
        yield url.set(drivername="postgresql").render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Both backends, migrated to head."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    migrations.upgrade(sync_url(url))
    return url


def sync_url(url: str) -> str:
    """psycopg (v3) for PostgreSQL sync access; SQLite as is."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def app_env(
    monkeypatch: pytest.MonkeyPatch, sim: SimulatorServer, sqlite_url: str
) -> Iterator[Callable[..., None]]:
    """Point the app's settings at the simulator and a migrated SQLite DB.

    Call the yielded function to override more settings (env names without the prefix).
    """
    from ai_chat.auth import identity
    from ai_chat.generation import runtime

    migrations.upgrade(sqlite_url)

    def configure(keep_sign_ins: str = "", **overrides: str) -> None:
        env = {
            "ANTHROPIC_API_KEY": "sk-test",
            "ANTHROPIC_BASE_URL": sim.base_url,
            "AI_CHAT_DB_URL": sqlite_url,
            "AI_CHAT_MAX_RETRIES": "0",
            "AI_CHAT_PUSH_INTERVAL_MS": "50",
        }
        env.update({f"AI_CHAT_{k.upper()}": v for k, v in overrides.items()})
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runtime.reset()
        if not keep_sign_ins:
            identity.clear_cache()

    configure()
    yield configure
    runtime.reset()


async def dispose_engines_after() -> AsyncIterator[None]:
    """Async engines are bound to the test's event loop: drop them after each test.

    Used as an autouse fixture by the async test packages (not by tests/e2e, whose
    Playwright sync API can't share a thread with an asyncio loop).
    """
    yield
    from ai_chat.store.db import dispose_engines

    await dispose_engines()


async def wait_until(
    predicate: Callable[[], object], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Wait on a condition (polled every 5 ms), never on a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)


async def eventually(
    check: Callable[[], Awaitable[object]], timeout: float = 10.0, what: str = "condition"
) -> None:
    """`wait_until` for async checks (e.g. reading a tab's state)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)


def service_marks(item: pytest.Item) -> set[str]:
    """The services a test needs, as far as collection can tell: every browser test (tests/
    e2e) needs Chromium; the `postgres_url` fixture, or a parameter named "postgres" (the
    `db_url` backends), needs PostgreSQL; a parameter named "redis" or "redis-…" (the
    memory/Redis pairs) needs Redis. Tests that reach a service another way carry the
    marker themselves."""
    marks = set()
    if "tests/e2e/" in item.nodeid.replace("\\", "/"):
        marks.add("browser")
    if "postgres_url" in getattr(item, "fixturenames", ()):
        marks.add("postgres")
    callspec = getattr(item, "callspec", None)
    for value in callspec.params.values() if callspec is not None else ():
        service = str(value).split("-", 1)[0]
        if service in ("postgres", "redis"):
            marks.add(service)
    return marks


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m selection
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers for the services each test needs (`pytest -m "not browser"`, `-m postgres`),
    then browser tests last: Playwright's sync API keeps an event loop running in this
    thread while it is open, which the asyncio tests can't share."""
    for item in items:
        for name in service_marks(item) - {mark.name for mark in item.iter_markers()}:
            item.add_marker(name)
    items.sort(key=lambda item: "tests/e2e/" in item.nodeid.replace("\\", "/"))
