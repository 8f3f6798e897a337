import pytest

from tests.conftest import dispose_engines_after

_dispose_engines = pytest.fixture(autouse=True)(dispose_engines_after)
