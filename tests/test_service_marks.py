"""`pytest -m "not browser"`, `-m postgres`, `-m redis`: the markers the collection hook in
tests/conftest.py gives each test from what it uses."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from tests.conftest import service_marks


def _item(nodeid: str, fixtures: tuple[str, ...] = (), **params: Any) -> pytest.Item:
    callspec = SimpleNamespace(params=params) if params else None
    return cast(
        pytest.Item, SimpleNamespace(nodeid=nodeid, fixturenames=fixtures, callspec=callspec)
    )


def test_browser_tests_are_the_e2e_directory() -> None:
    assert service_marks(_item("tests/e2e/test_chat_browser.py::test_x")) == {"browser"}
    assert service_marks(_item("tests/store/test_db.py::test_x")) == set()


def test_postgres_by_fixture_or_by_backend_parameter() -> None:
    assert service_marks(_item("tests/g.py::t", ("app_env", "postgres_url"))) == {"postgres"}
    assert service_marks(_item("tests/s.py::t[postgres]", db_url="postgres")) == {"postgres"}
    assert service_marks(_item("tests/s.py::t[sqlite]", db_url="sqlite")) == set()


def test_redis_by_parameter_including_its_variants() -> None:
    assert service_marks(_item("tests/l.py::t[redis]", make_quotas="redis")) == {"redis"}
    assert service_marks(_item("tests/s.py::t[redis-oplock]", tab="redis-oplock")) == {"redis"}
    assert service_marks(_item("tests/s.py::t[memory]", tab="memory")) == set()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_markers_are_applied_at_collection(request: pytest.FixtureRequest, backend: str) -> None:
    # Only the marker: this test touches no database.
    names = {mark.name for mark in request.node.iter_markers()}
    assert ("postgres" in names) == (backend == "postgres")
    assert not names & {"browser", "redis"}
