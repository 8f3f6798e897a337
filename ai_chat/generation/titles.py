"""A conversation's title, asked of Claude after its first reply ends complete.

A task of the worker's own, apart from the tab's: it never holds up the reply or the tab,
and a tab closed meanwhile doesn't stop it. Its tokens count against the owner's tokens per
day like a reply's. When the request fails (or titles are off) the provisional title, the
cleaned first message, stays. A tab that started one hears of the result (`wait`) and
shows it; other tabs on their next list refresh or page load."""

from __future__ import annotations

import asyncio
import collections
import logging

from ai_chat.generation import runtime
from ai_chat.limits import UserLimits
from ai_chat.llm.titles import clean_title, request_title
from ai_chat.store import conversations as store
from ai_chat.store.db import run_write

log = logging.getLogger(__name__)

_running: dict[str, asyncio.Task[str]] = {}  # conversation id -> its job, in this process
_made: collections.OrderedDict[str, str] = collections.OrderedDict()  # recent results
_KEEP_MADE = 512
_owners: dict[str, str] = {}  # conversation id -> owner, for `wait`'s check


def start(
    owner: str,
    limits: UserLimits,
    conversation_id: str,
    first_message: str,
    first_reply: str,
    provisional: str,
) -> bool:
    """Start the title job of a conversation whose first reply just ended complete (once
    per conversation and process); False when titles are off or one already ran."""
    settings = runtime.get_service().settings
    if not settings.titles or conversation_id in _running or conversation_id in _made:
        return False
    task = asyncio.create_task(
        _make(owner, limits, conversation_id, first_message, first_reply, provisional),
        name=f"title-{conversation_id}",
    )
    _running[conversation_id], _owners[conversation_id] = task, owner
    task.add_done_callback(lambda done: _finished(conversation_id, done))
    return True


async def wait(owner: str, conversation_id: str, timeout_s: float = 30.0) -> str:
    """The title the job of `owner`'s conversation stored ("" if none, it failed, or the
    job ran in another process)."""
    if _owners.get(conversation_id) != owner:
        return ""
    task = _running.get(conversation_id)
    if task is not None:
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout_s)
        except (TimeoutError, asyncio.CancelledError):
            return ""
        except Exception:  # noqa: BLE001 - logged by the job itself
            return ""
    return _made.get(conversation_id, "")


def _finished(conversation_id: str, task: asyncio.Task[str]) -> None:
    _running.pop(conversation_id, None)
    title = "" if task.cancelled() or task.exception() else task.result()
    _made[conversation_id] = title
    while len(_made) > _KEEP_MADE:
        old, _ = _made.popitem(last=False)
        _owners.pop(old, None)


async def _make(
    owner: str,
    limits: UserLimits,
    conversation_id: str,
    first_message: str,
    first_reply: str,
    provisional: str,
) -> str:
    """Ask, count, store; the stored title ("" when none was stored)."""
    service = runtime.get_service()
    try:
        with runtime.client_lease() as client:
            result = await request_title(
                client, service.settings.title_model, first_message, first_reply
            )
        await service.quotas.record_tokens(owner, limits, result.billed_tokens)
    except Exception as exc:  # noqa: BLE001 - the provisional title stays
        log.info("title of %s not made (%s)", conversation_id, type(exc).__name__)
        return ""
    title = result.title or clean_title(first_message)
    if not title or title == provisional:
        return ""
    stored = await run_write(
        store.set_generated_title_sync, owner, conversation_id, title, provisional
    )
    return title if stored else ""
