"""Watchers: the background side of "live in every tab, nobody stuck".

A tab showing a conversation has one watcher (`LiveState.watch`). It joins the
conversation's fan-out channel (generation/fanout.py) and wakes on its frames only: a reply
started elsewhere appears with its user turn and grows live; its end brings the stored
reply. While it shows a reply and no frame came for `SILENT_S` (an owner pushes at least
once a second), it asks the database and the reply's lease: a reply that ended unseen is
shown as stored; one whose owner is gone is recovered (stored as interrupted) and shown
so, with a message. A tab whose own reply runs on a worker that died (its state says
"generating", the task is gone) gets a watcher that checks only that lease.

A watcher ends when its tab starts another (token), leaves the conversation, or has seen
nothing for `IDLE_S`; the page asks for a new one when it becomes visible again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence

from reflex_base.event import EventSpec

from ai_chat.generation import fanout, runtime
from ai_chat.state import attachments
from ai_chat.state import watch_view as view
from ai_chat.state._reflex_seam import unproxied
from ai_chat.state.live_vars import LiveVars
from ai_chat.state.watch_view import Plan, lost_toast
from ai_chat.store import branches
from ai_chat.store.db import read_scope
from ai_chat.store.models import Message

log = logging.getLogger(__name__)

TICK_S = 1.0  # while showing a reply: how often a silent one is looked at
SILENT_S = 2.5  # no frame this long: the reply ended unseen, or its owner is gone
IDLE_TICK_S = 30.0  # while idle: how often the watcher checks it is still wanted
IDLE_S = 600.0  # idle this long: the watcher ends (the page renews it when shown again)
STOP_SETTLE_S = 1.5  # a Stop not confirmed by then is ended by the tab itself

# Generations whose `generate` task runs in this process.
RUNNING_HERE: set[str] = set()

IN_FLIGHT = ("thinking", "streaming")


async def reply_alive(generation_id: str, message_id: str) -> bool:
    """Whether the reply still runs somewhere; True while that can't be told (Redis or the
    database down): a reply is never ended on a guess, only looked at again later."""
    if generation_id in RUNNING_HERE:
        return True
    try:
        return await runtime.get_service().reply_alive(generation_id, message_id)
    except Exception:  # asked again at the next look
        log.warning("could not tell whether reply %s is alive", message_id, exc_info=True)
        return True


async def recover(owner: str, conversation_id: str) -> int:
    """Its replies in flight whose owner is gone, stored as interrupted: how many (0 when
    that can't be done now; the sweeper and the next look do it)."""
    try:
        return await runtime.get_service().recover_conversation(owner, conversation_id)
    except Exception:  # Redis or the database down
        log.warning("could not recover %s's replies", conversation_id, exc_info=True)
        return 0


async def read_rows(owner: str, conversation_id: str) -> branches.Path:
    """The branch shown (store/branches.py), with its versions."""
    async with read_scope() as session:
        return await branches.active_path(session, owner, conversation_id)


def _asked(rows: Sequence[Message]) -> list[str]:
    """The newest user turns (the one a reply began for, and the one before): their files
    are read with them, so another tab shows a question with its files."""
    return [row.id for row in rows[-4:] if row.role == "user"]


def in_flight(rows: Sequence[Message]) -> Message | None:
    """The conversation's reply in flight (its last reply, if not ended)."""
    for row in reversed(rows):
        if row.role == "assistant":
            return row if row.status in IN_FLIGHT else None
    return None


async def settled_rows(
    owner: str, conversation_id: str, message_id: str, generation_id: str = ""
) -> tuple[branches.Path, bool]:
    """The conversation's rows once `message_id` is no longer running: (rows, lost), `lost`
    when its owner was gone and it was recovered here. Rows still in flight: ([], False)."""
    rows = await read_rows(owner, conversation_id)
    row = next((r for r in rows if r.id == message_id), None)
    if row is None or row.status not in IN_FLIGHT:
        return rows, False
    if await reply_alive(generation_id, message_id):
        return branches.Path(), False
    await recover(owner, conversation_id)
    return await read_rows(owner, conversation_id), True


async def follow(state: LiveVars, plan: Plan) -> AsyncIterator[EventSpec]:
    """Another tab's replies in this conversation, live (module docstring)."""
    async with runtime.get_service().fanout.join(plan.conversation_id) as channel:
        seen, shown, shown_generation = channel.version, plan.watched_message, ""
        last_news = idle_since = time.monotonic()
        while True:
            woke = await channel.wait(seen, TICK_S if shown else IDLE_TICK_S)
            if channel.closed:
                return
            now = time.monotonic()
            if woke and (frame := channel.frame) is not None:
                seen, last_news, idle_since = channel.version, now, now
                if frame.ended or frame.message_id != shown:
                    async with state:  # e.g. this tab's own reply began: its watcher ends
                        if not view.watch_wanted(unproxied(state), plan.token):
                            return
                    # A reply began (its user turn is stored) or ended: the rows say which.
                    rows = await read_rows(plan.owner, plan.conversation_id)
                    files = await attachments.files_of(plan.owner, _asked(rows))
                    live_id = "" if frame.ended else frame.message_id
                    async with state:
                        live = unproxied(state)
                        ok = view.watch_sync(live, plan.token, rows, frame, live_id, files)
                    if not ok:
                        return
                    shown, shown_generation = live_id, frame.generation_id
                    continue
                async with state:
                    if not view.watch_show(unproxied(state), plan.token, frame):
                        return
                continue
            async with state:  # a tick: still wanted?
                if not view.watch_wanted(unproxied(state), plan.token):
                    return
            if shown and now - last_news >= SILENT_S:
                rows, lost = await settled_rows(
                    plan.owner, plan.conversation_id, shown, shown_generation
                )
                if rows:
                    async with state:
                        ok = view.watch_sync(unproxied(state), plan.token, rows, None, "")
                    if not ok:
                        return
                    if lost:
                        yield lost_toast()
                    shown, idle_since = "", now
                last_news = now
            elif not shown and now - idle_since >= IDLE_S:
                async with state:
                    view.watch_quit(unproxied(state), plan.token)
                return


async def guard_own(state: LiveVars, plan: Plan) -> AsyncIterator[EventSpec]:
    """This tab's own reply, whose task runs elsewhere: ended here if its owner is gone.
    Its elapsed time moves each second while it is alive, so only a still one is checked."""
    elapsed, still_since = -1.0, time.monotonic()
    while True:
        await asyncio.sleep(TICK_S)
        async with state:
            live = unproxied(state)
            if not view.watch_wanted(live, plan.token) or live.generation_id != plan.own_generation:
                return  # it ended (its worker told the tab), or the tab moved on
            now_elapsed = live.live_elapsed_s
        now = time.monotonic()
        if now_elapsed != elapsed:
            elapsed, still_since = now_elapsed, now
            continue
        if now - still_since < SILENT_S:
            continue
        rows, lost = await settled_rows(
            plan.owner, plan.conversation_id, plan.own_message, plan.own_generation
        )
        if rows:
            async with state:
                ended = view.own_lost(unproxied(state), plan, rows)
            if ended and lost:
                yield lost_toast()
            return
        still_since = now


async def settle_stop(
    state: LiveVars, send: Callable[[str], EventSpec]
) -> AsyncIterator[EventSpec]:
    """Stop always ends in a terminal state: if the reply has not ended `STOP_SETTLE_S`
    after the click, the tab ends it itself (stored as interrupted if its owner is gone)."""
    async with state:
        clicked = view.stop_target(unproxied(state))
    if clicked is None:
        return
    deadline = time.monotonic() + STOP_SETTLE_S
    while (left := deadline - time.monotonic()) > 0:
        if fanout.stopping():  # the process stops: nothing to settle
            return
        await asyncio.sleep(min(left, 0.1))
    async with state:
        target = view.stop_target(unproxied(state))
    if target is None or target[:3] != clicked[:3]:
        return  # it ended
    message_id, conversation_id, owner, generation_id = target
    rows, lost = await settled_rows(owner, conversation_id, message_id, generation_id)
    async with state:
        events = view.stop_settled(unproxied(state), target, rows, lost, send)
    for event in events or ():
        yield event
