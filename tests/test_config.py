"""Settings read from the environment: the push budget is the host's, shared by its workers."""

from __future__ import annotations

import os

import pytest

from ai_chat.config import load_settings


@pytest.mark.parametrize(
    ("env", "per_worker"),
    [
        ({}, 1000),  # one worker without Redis
        ({"GRANIAN_WORKERS": "3"}, 1000 / 3),
        ({"AI_CHAT_PUSH_BUDGET": "600", "GRANIAN_WORKERS": "2"}, 300),
        # with Redis and no count given, as many as `reflex run` starts
        ({"AI_CHAT_REDIS_URL": "redis://127.0.0.1:6379/0"}, 1000 / min(2 * os.cpu_count() + 1, 8)),
        ({"REFLEX_REDIS_URL": "redis://127.0.0.1:6379/0", "GRANIAN_WORKERS": "4"}, 250),
    ],
)
def test_each_worker_gets_its_share_of_the_host_push_budget(env, per_worker):
    assert load_settings(env).push_budget_per_s == pytest.approx(per_worker)


def test_a_bad_number_is_named_in_the_error():
    with pytest.raises(ValueError, match="GRANIAN_WORKERS"):
        load_settings({"GRANIAN_WORKERS": "three"})


def test_the_database_pool_size_is_read_and_kept_positive():
    assert load_settings({}).db_pool_size == 15
    assert load_settings({"AI_CHAT_DB_POOL_SIZE": "4"}).db_pool_size == 4
    assert load_settings({"AI_CHAT_DB_POOL_SIZE": "0"}).db_pool_size == 1


def test_turn_start_slots_default_to_no_bound_and_never_go_negative():
    assert load_settings({}).turn_start_slots == 0
    assert load_settings({"AI_CHAT_TURN_STARTS": "2"}).turn_start_slots == 2
    assert load_settings({"AI_CHAT_TURN_STARTS": "-3"}).turn_start_slots == 0


SWITCHES = (
    "own_network",
    "chunk_merger",
    "direct_emits",
    "gc_tuning",
    "state_proxy_bypass",
    "limits_sweep_throttle",
)


def _switches(env: dict[str, str]) -> dict[str, bool]:
    settings = load_settings(env)
    return {name: getattr(settings, name) for name in SWITCHES}


def test_every_tuned_path_is_on_by_default_and_each_has_its_own_switch():
    assert _switches({}) == dict.fromkeys(SWITCHES, True)
    for name in SWITCHES:
        off = _switches({f"AI_CHAT_{name.upper()}": "0"})
        expected = {other: other != name for other in SWITCHES}
        if name == "own_network":  # the merger works inside our network backend only
            expected["chunk_merger"] = False
        assert off == expected, name


@pytest.mark.parametrize("value", ["1", "true", "yes", "on"])
def test_the_stock_switch_turns_every_one_off_whatever_the_others_say(value):
    env = {f"AI_CHAT_{name.upper()}": "1" for name in SWITCHES}
    assert _switches({**env, "AI_CHAT_STOCK": value}) == dict.fromkeys(SWITCHES, False)
    assert _switches({**env, "AI_CHAT_STOCK": "0"}) == dict.fromkeys(SWITCHES, True)


def test_every_switch_is_in_the_list_of_names_passed_to_a_served_app():
    from ai_chat.config import STOCK_SWITCHES

    assert set(STOCK_SWITCHES) == {"AI_CHAT_STOCK", *(f"AI_CHAT_{n.upper()}" for n in SWITCHES)}
