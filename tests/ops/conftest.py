"""Fixtures of the operations tests: the turn log's lines as they are written."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ai_chat.ops.turn_log import LOGGER_NAME
from tests.conftest import dispose_engines_after

_dispose_engines = pytest.fixture(autouse=True)(dispose_engines_after)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def turn_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Call it for the JSON turn-log lines written so far in the test, parsed (each line
    must be one JSON object)."""
    handler = _Lines()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in handler.lines]
    finally:
        logger.removeHandler(handler)
