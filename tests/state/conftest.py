from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.state.harness import Tab, event_processor


@pytest.fixture
async def tab(app_env) -> AsyncIterator[Tab]:
    async with event_processor() as (processor, manager, namespace):
        yield Tab(processor, manager, namespace)
