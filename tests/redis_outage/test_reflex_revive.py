"""Reflex's own Redis listeners across an outage, with `AI_CHAT_REDIS_RECOVERY` on and off.

Real parts: Reflex's StateManagerRedis and RedisTokenManager on a Redis server of the test's
own, killed and started again on its port; our RedisMonitor and Watch. The app around them
is a stand-in holding just those two and a namespace that records what it broadcasts. If a
Reflex upgrade renames what reflex_redis.py reaches for, this fails."""

from __future__ import annotations

import pickle
import types

import pytest
import redis.asyncio as aioredis
from reflex.istate.manager.redis import StateManagerRedis
from reflex.utils.token_manager import RedisTokenManager, SocketRecord

from ai_chat.redis_monitor import RedisMonitor
from ai_chat.reflex_redis import Watch, status_update
from ai_chat.state.service_status import ServiceStatusState
from tests.conftest import eventually, wait_until

GIVE_UP_S = 30  # Reflex gives up after 5 errors, 1 s apart


class RecordingNamespace:
    def __init__(self, token_manager: RedisTokenManager) -> None:
        self._token_manager = token_manager
        self.broadcasts: list = []

    async def emit(self, event: str, data) -> None:
        self.broadcasts.append((event, data))

    async def emit_update(self, update, token: str) -> None:  # the lost-and-found target
        pass


def _ended(task) -> bool:
    return task is not None and task.done()


async def _notify_config(url: str) -> str:
    client = aioredis.Redis.from_url(url)
    try:
        return (await client.config_get("notify-keyspace-events"))["notify-keyspace-events"]
    finally:
        await client.aclose()


@pytest.mark.parametrize("recovery", [True, False], ids=["recovery", "stock"])
async def test_listeners_after_an_outage(redis_server, recovery):
    manager = StateManagerRedis(redis=aioredis.Redis.from_url(redis_server.url))
    manager._oplock_enabled = True  # as rxconfig.py sets it with Redis
    tokens = RedisTokenManager(aioredis.Redis.from_url(redis_server.url))
    namespace = RecordingNamespace(tokens)
    app = types.SimpleNamespace(state_manager=manager, event_namespace=namespace)
    tokens._ensure_socket_record_task()
    tokens.ensure_lost_and_found_task(namespace.emit_update)
    await manager._ensure_lock_task_subscribed()
    assert await _notify_config(redis_server.url) != ""
    # A tab connected to this worker.
    tokens.token_to_socket["tab-1"] = SocketRecord(instance_id=tokens.instance_id, sid="sid-1")
    tokens.sid_to_token["sid-1"] = "tab-1"

    monitor = RedisMonitor(redis_server.url, up_s=0.1, down_s=0.05)
    Watch(app, monitor, recovery=recovery)
    monitor.start()
    try:
        redis_server.kill()
        # The banner goes out to every tab of the worker, without Redis.
        await wait_until(lambda: namespace.broadcasts, what="the degraded push")
        event, update = namespace.broadcasts[0]
        assert event == "event" and update.delta == status_update(True).delta
        delta = update.delta[ServiceStatusState.get_full_name()]
        assert delta == {"redis_down_rx_state_": True}
        # What Reflex does on its own: each listener gives up after 5 errors in 60 s.
        listeners = (
            (manager, "_lock_task"),
            (tokens, "_socket_record_task"),
            (tokens, "_lost_and_found_task"),
        )
        await wait_until(
            lambda: all(_ended(getattr(o, a)) for o, a in listeners),
            timeout=GIVE_UP_S,
            what="Reflex's listeners to give up",
        )

        sent = len(namespace.broadcasts)
        redis_server.start()  # empty: no socket records, notifications off
        await wait_until(lambda: len(namespace.broadcasts) > sent, what="the all-clear push")
        _, update = namespace.broadcasts[sent]
        assert update.delta[ServiceStatusState.get_full_name()] == {"redis_down_rx_state_": False}
        names = [e.name for e in update.events]  # the outage's toast dismissed, then resync
        assert names == ["_call_function", "reflex___state____state.hydrate_and_load"]

        if recovery:
            await wait_until(
                lambda: (
                    manager._lock_updates_subscribed.is_set()
                    and not _ended(tokens._lost_and_found_task)
                    and not _ended(tokens._socket_record_task)
                ),
                what="the listeners back",
            )
            assert await _notify_config(redis_server.url) != ""

            async def record_stored() -> bool:
                client = aioredis.Redis.from_url(redis_server.url)
                try:
                    raw = await client.get(tokens._get_redis_key("tab-1"))
                finally:
                    await client.aclose()
                return raw is not None and pickle.loads(raw).sid == "sid-1"

            await eventually(record_stored, what="this worker's socket record stored again")
        else:
            # Stock Reflex: nothing comes back until something calls `_ensure_*` — and a
            # lease that does so resubscribes with the keyspace notifications still off.
            await monitor.check()
            assert _ended(manager._lock_task) and _ended(tokens._lost_and_found_task)
            manager._ensure_lock_task()
            await manager._ensure_lock_task_subscribed()
            assert await _notify_config(redis_server.url) == ""
    finally:
        await monitor.close()
        await tokens.close()
        await manager.close()


async def test_a_restart_between_two_pings_is_caught_by_the_config_check(redis_server):
    """Redis restarted quicker than the monitor pings: no outage seen, but Reflex's lock
    listener resubscribed with the keyspace notifications off; the periodic check sees it."""
    from ai_chat.reflex_redis import revive

    manager = StateManagerRedis(redis=aioredis.Redis.from_url(redis_server.url))
    app = types.SimpleNamespace(state_manager=manager, event_namespace=None)
    try:
        await manager._ensure_lock_task_subscribed()
        redis_server.kill()
        await wait_until(
            lambda: not manager._lock_updates_subscribed.is_set(), what="the lost subscription"
        )
        redis_server.start()
        await wait_until(manager._lock_updates_subscribed.is_set, what="Reflex resubscribed")
        assert await _notify_config(redis_server.url) == ""  # what stock Reflex leaves
        assert await revive(app, redis_back=False) == []  # nothing looks wrong from here…
        done = await revive(app, redis_back=False, check_config=True)  # …but the config does
        assert done == ["keyspace notifications"]
        assert await _notify_config(redis_server.url) != ""
    finally:
        await manager.close()


def test_recovery_is_on_unless_switched_off():
    from ai_chat.config import load_settings

    assert load_settings({}).redis_recovery is True
    assert load_settings({"AI_CHAT_REDIS_RECOVERY": "0"}).redis_recovery is False
