"""Redis outages, as far as Reflex 0.10.1 is concerned. The only module that reaches into
Reflex's internals for it (private names, checked by tests/redis_outage/test_reflex_revive.py
after an upgrade); `AI_CHAT_REDIS_RECOVERY=0` leaves Reflex as it ships.

What Reflex does by itself, read from its source:
- its listeners (`StateManagerRedis._lock_task`: lock releases and contention;
  `RedisTokenManager._socket_record_task` and `_lost_and_found_task`: tabs on other workers)
  run in `reflex.utils.tasks._run_forever`, which gives up after 5 errors in 60 s. They are
  started again only when something calls their `_ensure_*` (a lease, a lock wait, a new
  socket): a worker whose tabs stay connected may go on without them;
- it turns keyspace notifications on once per process (`_redis_notify_keyspace_events_enabled`):
  a restarted Redis has them off, so lock releases go unheard: a tab's event that waits for
  another worker's lock is no longer woken when it is released, it waits for its expiry;
- a restarted Redis lost the records of which worker holds which tab's socket.

What this adds, on each `RedisMonitor` tick: listeners that ended are started again; when
Redis comes back (or the lock listener lost its subscription), notifications are turned on
again and this worker's socket records stored again. And, recovery on or off, every tab on
this worker is told when Redis goes and comes back (`ServiceStatusState`): the push goes
straight to the sockets, which needs no Redis. With Redis back, each tab is asked to send
the event it sends on a reconnect (`resync_event_name`): its state comes back whole, from
the database, without a reload. Also here, as they hang on the same watch: an event that
fails on Redis gets a plain toast (`backend_exception_handler`), and reply slots whose
release Redis missed are freed when it is back (limits/slots.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import redis.exceptions
import reflex as rx
from reflex.app import default_backend_exception_handler
from reflex.event import Event, EventSpec
from reflex.state import StateUpdate
from reflex_base.constants.state import FIELD_MARKER

from ai_chat import redis_monitor
from ai_chat.config import get_settings
from ai_chat.redis_monitor import RedisMonitor, get_monitor
from ai_chat.state.service_status import ServiceStatusState

log = logging.getLogger(__name__)

RESEND_DOWN_EVERY = 10  # ticks while down: tabs that connected meanwhile see the banner too
CONFIG_CHECK_EVERY = 5  # ticks while up: one CONFIG GET per worker every ~10 s
TOAST_ID = "redis-down"
LOG_EVERY_S = 10.0
REDIS_DOWN_TOAST = (
    "The service is degraded: the session store can't be reached, so this could not be done. "
    "Your conversations are safe; try again in a moment."
)


def backend_exception_handler(exception: Exception) -> EventSpec:
    """An event that failed because Redis is unreachable (the tab's state lives there) says
    so in plain words (logged at most every LOG_EVERY_S); anything else as Reflex does."""
    if not _caused_by_redis(exception):
        stock: EventSpec = default_backend_exception_handler(exception)
        return stock
    redis_monitor.report_failure()
    _log_failed_event(exception)
    return rx.toast.warning(REDIS_DOWN_TOAST, id=TOAST_ID, position="top-center")


class _FailedEvents:
    """Every tab's events fail alike during an outage: one log line per LOG_EVERY_S."""

    logged_at = -LOG_EVERY_S
    unlogged = 0


def _log_failed_event(exception: BaseException) -> None:
    now = time.monotonic()
    if now - _FailedEvents.logged_at < LOG_EVERY_S:
        _FailedEvents.unlogged += 1
        return
    log.warning(
        "an event failed, Redis unreachable (%s: %s; %d more since the last such line)",
        type(exception).__name__,
        exception,
        _FailedEvents.unlogged,
    )
    _FailedEvents.logged_at, _FailedEvents.unlogged = now, 0


def _caused_by_redis(exception: BaseException | None) -> bool:
    seen = 0
    while exception is not None and seen < 10:
        if isinstance(exception, redis.exceptions.RedisError):
            return True
        exception, seen = exception.__cause__ or exception.__context__, seen + 1
    return False


def status_update(down: bool) -> StateUpdate:
    """The push that shows (or hides) the banner; with Redis back, it also dismisses the
    outage's toast and asks the tab for its reconnect event (`resync_event_name`)."""
    delta = {ServiceStatusState.get_full_name(): {"redis_down" + FIELD_MARKER: down}}
    events = []
    if not down:  # the outage's toast goes too (events the tab sent meanwhile failed)
        events = [*Event.from_event_type(rx.toast.dismiss(TOAST_ID))]
        events.append(Event(name=resync_event_name(), payload={}))
    return StateUpdate(delta=delta, events=events)


def resync_event_name() -> str:
    """What a tab sends on every socket (re)connect: the whole state, then the page's
    on_load (the conversation from the database). Sent back by each tab when Redis returns,
    it rebuilds a tab whose state Redis lost, and one whose state Redis kept but older than
    what the tab shows (the opportunistic lock writes back every few seconds)."""
    from reflex.state import State

    return f"{State.get_full_name()}.hydrate_and_load"


async def push_status(app: Any, down: bool) -> None:
    """To every socket of this worker (a broadcast on the event namespace)."""
    namespace = app.event_namespace
    if namespace is not None:
        await namespace.emit("event", status_update(down))


async def revive(app: Any, redis_back: bool, check_config: bool = False) -> list[str]:
    """Starts what gave up; with `redis_back` (or a lost subscription) also what a restarted
    Redis forgot; `check_config`: looks whether Redis still has the keyspace notifications
    on (a restart quicker than a ping isn't seen as an outage). Returns what it did."""
    from reflex.istate.manager.redis import StateManagerRedis, enable_keyspace_notifications
    from reflex.utils.token_manager import RedisTokenManager

    done: list[str] = []
    manager = app.state_manager
    if isinstance(manager, StateManagerRedis):
        lost = manager._lock_task is not None and not manager._lock_updates_subscribed.is_set()
        if not (redis_back or lost) and check_config:
            lost = not await _notifications_on(manager)
        if redis_back or lost:
            events = manager._redis_notify_keyspace_events
            await enable_keyspace_notifications(manager.redis, events)
            manager._redis_notify_keyspace_events_enabled = True
            done.append("keyspace notifications")
        if _ended(manager._lock_task):
            if manager._lock_task is not None:  # None: not started yet (a first lease will)
                done.append("lock listener")
            manager._ensure_lock_task()
    namespace = app.event_namespace
    tokens = namespace._token_manager if namespace is not None else None
    if isinstance(tokens, RedisTokenManager):
        if _ended(tokens._socket_record_task) and tokens._socket_record_task is not None:
            tokens._ensure_socket_record_task()
            done.append("socket record listener")
        if _ended(tokens._lost_and_found_task) and tokens._lost_and_found_task is not None:
            tokens.ensure_lost_and_found_task(namespace.emit_update)
            done.append("lost-and-found listener")
        if redis_back:
            mine = [
                (token, record)
                for token, record in list(tokens.token_to_socket.items())
                if record.instance_id == tokens.instance_id
            ]
            for token, record in mine:
                await tokens._store_socket_record(token, record, nx=True)
            done.append(f"{len(mine)} socket records")
    if done:
        log.warning("Redis recovery: %s", ", ".join(done))
    return done


async def _release_missed_slots() -> None:
    """Reply slots whose release Redis missed while down (limits/slots.py): freed now, not
    when their lease ends, so the user's next send isn't refused meanwhile."""
    from ai_chat.generation import runtime

    if not runtime.get_service.cache_info().currsize:
        return  # no reply ran in this worker yet
    slots = runtime.get_service().quotas.slots
    if slots.missed:
        try:
            await slots.release_missed()
        except Exception as exc:  # noqa: BLE001 - Redis went again: the next tick retries
            log.warning("reply slots not released yet (%s: %s)", type(exc).__name__, exc)


async def _notifications_on(manager: Any) -> bool:
    """Redis has every keyspace notification flag Reflex asked for (True when CONFIG is
    refused: then the operator set them, REFLEX_IGNORE_REDIS_CONFIG_ERROR)."""
    try:
        config = await manager.redis.config_get("notify-keyspace-events")
    except redis.exceptions.ResponseError:
        return True
    value = config.get("notify-keyspace-events", "")
    current = value.decode() if isinstance(value, bytes) else str(value)
    wanted = manager._redis_notify_keyspace_events
    # "A" stands for "g$lshzxetd" (Redis docs): compare flags, not strings.
    current = current.replace("A", "g$lshzxetd")
    return all(flag in current for flag in wanted.replace("A", "g$lshzxetd"))


def _ended(task: Any) -> bool:
    if task is not None and task.done() and not task.cancelled():
        task.exception()  # seen here: asyncio needn't report it as never retrieved
    return task is None or task.done()


class Watch:
    """Ties a worker's `RedisMonitor` to its Reflex app."""

    def __init__(self, app: Any, monitor: RedisMonitor, recovery: bool) -> None:
        self.app, self.monitor, self.recovery = app, monitor, recovery
        self._down_ticks = self._ticks = 0
        self._back = False  # Redis came back; revive() has not finished since
        monitor.on_change(self._changed)
        monitor.on_tick(self._tick)

    async def _changed(self, up: bool) -> None:
        self._down_ticks = 0
        if up:  # repaired before the tabs are told to come back
            await _release_missed_slots()
            if self.recovery:
                self._back = True
                await self._revive()
        await push_status(self.app, not up)

    async def _tick(self, up: bool) -> None:
        if not up:
            self._down_ticks += 1
            if self._down_ticks % RESEND_DOWN_EVERY == 0:
                await push_status(self.app, True)
        elif not self.monitor.failing:
            await _release_missed_slots()
            if self.recovery:
                self._ticks += 1
                await self._revive(check_config=self._ticks % CONFIG_CHECK_EVERY == 0)

    async def _revive(self, check_config: bool = False) -> None:
        try:
            await revive(self.app, redis_back=self._back, check_config=check_config)
        except Exception as exc:  # noqa: BLE001 - Redis went again: the next tick retries
            log.warning("Redis recovery not finished (%s: %s)", type(exc).__name__, exc)
            return
        self._back = False


async def watch(app: Any) -> None:
    """A lifespan task: each worker watches Redis while it serves (nothing without Redis)."""
    settings = get_settings()
    if not settings.redis_url:
        return
    monitor = get_monitor(settings.redis_url)
    Watch(app, monitor, recovery=settings.redis_recovery)
    monitor.start()
    try:
        await asyncio.Event().wait()  # until the server stops (the lifespan cancels this)
    finally:
        await monitor.close()
