"""Each test has its own Redis server (tests/redis_outage/own_redis.py) to kill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import dispose_engines_after
from tests.redis_outage.own_redis import OwnRedis, own_redis

_dispose_engines = pytest.fixture(autouse=True)(dispose_engines_after)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[OwnRedis]:
    with own_redis(tmp_path / "redis") as server:
        yield server
