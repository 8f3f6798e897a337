"""The pure parts: per-user limits, the wait in words, the sliding window's wait, keys."""

from __future__ import annotations

import dataclasses

import pytest

from ai_chat.config import load_settings
from ai_chat.generation.job import GenerationJob
from ai_chat.limits import UserLimits, limits_for, signin_wait_message, wait_words
from ai_chat.limits.backend import LocalStorage, storage_uri, window
from ai_chat.limits.quotas import sliding_retry_after
from ai_chat.limits.signin import account_key, address_key
from tests.conftest import wait_until

SETTINGS = load_settings({})


@dataclasses.dataclass
class Row:  # like ai_chat.store.users.User: nullable overrides
    messages_per_minute: int | None = None
    concurrent_replies: int | None = None
    tokens_per_day: int | None = None


def test_limits_default_to_the_settings_and_overrides_win():
    defaults = UserLimits(30, 3, 2_000_000)
    assert limits_for(None, SETTINGS) == defaults
    assert limits_for(Row(), SETTINGS) == defaults
    assert limits_for(Row(concurrent_replies=0), SETTINGS) == UserLimits(30, 0, 2_000_000)
    assert limits_for(Row(5, None, -3), SETTINGS) == UserLimits(5, 3, 0)
    assert limits_for(object(), SETTINGS) == defaults  # no such attributes
    env = {"AI_CHAT_LIMIT_MESSAGES_PER_MINUTE": "7", "AI_CHAT_LIMIT_TOKENS_PER_DAY": "0"}
    assert UserLimits.defaults(load_settings(env)) == UserLimits(7, 3, 0)


def test_a_job_has_the_server_limits_unless_given(monkeypatch):
    from ai_chat.config import get_settings

    monkeypatch.setenv("AI_CHAT_LIMIT_CONCURRENT_REPLIES", "9")
    get_settings.cache_clear()
    try:
        job = GenerationJob("o", None, "t", "g", "a", "m", 10)
        assert job.limits.concurrent_replies == 9
        given = dataclasses.replace(job, limits=UserLimits(1, 1, 1))
        assert given.limits == UserLimits(1, 1, 1)
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "1 s"),
        (12.1, "13 s"),
        (89, "89 s"),
        (90, "2 min"),
        (3599, "1 h"),
        (3600, "1 h"),
        (3 * 3600 + 20 * 60, "3 h 20 min"),
        (86_400, "24 h"),
    ],
)
def test_wait_words_round_up(seconds, words):
    assert wait_words(seconds) == words


def test_signin_message():
    assert signin_wait_message(600) == "Too many failed sign-ins; try again in 10 min."


@pytest.mark.parametrize(
    ("counts", "wait"),
    [
        # (previous, previous_ttl, current, current_ttl) on a 100 s window, limit 10
        ((0, 0.0, 3, 150.0), 0.0),  # under the limit
        ((0, 0.0, 10, 150.0), 50.0),  # used up in this window: when it ends
        ((0, 0.0, 20, 150.0), 100.0),  # twice over: and half the next one
        ((10, 40.0, 6, 160.0), 0.0),  # 10 × 0.4 + 6 = 10: under it as soon as the weight falls
        ((20, 40.0, 6, 160.0), 20.0),  # 20 × (40 - t)/100 + 6 < 10 ⇔ t > 20
        ((20, 40.0, 12, 160.0), 40.0 + 100 * (1 - 10 / 12)),
    ],
)
def test_sliding_retry_after(counts, wait):
    assert sliding_retry_after(10, 100, *counts) == pytest.approx(wait)


def test_keys_leave_out_the_amount():
    assert window(3, 60, "messages").key_for("u1") == window(5, 60, "messages").key_for("u1")
    assert window(3, 60, "messages").key_for("u1") != window(3, 1, "messages").key_for("u1")


def test_signin_keys():
    assert account_key("  Bob ") == "bob"
    assert len(account_key("x" * 10_000)) == 64
    assert address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1"
    assert address_key("not an address") == "not an address"


def test_storage_uri():
    assert storage_uri("redis://h:6379/0") == "async+redis://h:6379/0"
    assert storage_uri("rediss://h/1") == "async+rediss://h/1"
    assert storage_uri("unix:///tmp/r.sock") == "async+redis+unix:///tmp/r.sock"


async def test_the_memory_storage_sweeps_at_most_every_few_seconds():
    from limits.aio.storage import MemoryStorage
    from limits.aio.strategies import MovingWindowRateLimiter

    # The private hook LocalStorage overrides (renamed by a `limits` upgrade: fix it there).
    assert hasattr(MemoryStorage, "_MemoryStorage__schedule_expiry")

    async def sweeps(storage: MemoryStorage) -> int:
        limiter, started = MovingWindowRateLimiter(storage), []
        for user in range(20):
            assert await limiter.hit(window(5, 60, "messages"), f"u{user}")
            if storage.timer is not None and storage.timer not in started:
                started.append(storage.timer)
            await wait_until(lambda: storage.timer is None or storage.timer.done())
        return len(started)

    assert await sweeps(MemoryStorage()) == 20  # one after every hit
    assert await sweeps(LocalStorage()) == 1


def test_the_throttled_sweep_has_a_switch_back_to_limits_own_storage():
    from limits.aio.storage import MemoryStorage

    from ai_chat.config import load_settings
    from ai_chat.limits import Quotas

    for env, expected in (
        ({}, LocalStorage),
        ({"AI_CHAT_LIMITS_SWEEP_THROTTLE": "0"}, MemoryStorage),
        ({"AI_CHAT_STOCK": "1"}, MemoryStorage),
    ):
        storage = Quotas(load_settings(env), redis_url="").backend.local.moving.storage
        assert type(storage) is expected, env
