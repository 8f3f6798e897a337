"""Failed sign-ins, throttled per account and per address: the process's `Quotas`
(ai_chat.limits), shared by all workers through Redis when configured."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ai_chat.limits import Quotas


def _quotas() -> Quotas:
    from ai_chat.generation import runtime

    return runtime.get_service().quotas


async def signin_blocked(username: str, address: str) -> float | None:
    """Seconds to wait before this account or address may try again, or None."""
    return await _quotas().signin_blocked(username, address)


async def signin_failed(username: str, address: str) -> None:
    await _quotas().signin_failed(username, address)


async def signin_succeeded(username: str, address: str) -> None:
    await _quotas().signin_succeeded(username, address)
