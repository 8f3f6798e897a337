"""The models we offer, with limits and prices: the one place to update when they change.

Prices are USD per million tokens (late 2026 docs). Cache writes cost 1.25× input, cache
reads 0.1× input (5-minute ephemeral cache).
"""

from __future__ import annotations

import dataclasses

CACHE_WRITE_MULTIPLIER = 1.25
CACHE_READ_MULTIPLIER = 0.10


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    id: str
    label: str
    context_window: int
    max_output: int
    input_per_mtok: float
    output_per_mtok: float
    thinking: bool = True


MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("claude-sonnet-5-5", "Claude Sonnet 5.5", 1_000_000, 128_000, 2.0, 10.0),
    ModelInfo("claude-opus-5-5", "Claude Opus 5.5", 1_000_000, 128_000, 4.0, 20.0),
    ModelInfo("claude-haiku-5-5", "Claude Haiku 5.5", 1_000_000, 128_000, 0.10, 0.50),
    ModelInfo("claude-fable-5-1", "Claude Fable 5.1", 1_000_000, 128_000, 10.0, 50.0),
    ModelInfo("claude-haiku-4-5-20251001", "Claude Haiku 4.5", 200_000, 64_000, 1.0, 5.0),
)
_BY_ID = {m.id: m for m in MODELS}


def model_info(model_id: str) -> ModelInfo | None:
    return _BY_ID.get(model_id)


@dataclasses.dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


def cost_usd(model_id: str, usage: Usage) -> float | None:
    """What a turn cost, or None for a model we have no price for."""
    info = model_info(model_id)
    if info is None:
        return None
    per_in = info.input_per_mtok / 1_000_000
    return (
        usage.input_tokens * per_in
        + usage.cache_creation_input_tokens * per_in * CACHE_WRITE_MULTIPLIER
        + usage.cache_read_input_tokens * per_in * CACHE_READ_MULTIPLIER
        + usage.output_tokens * info.output_per_mtok / 1_000_000
    )
