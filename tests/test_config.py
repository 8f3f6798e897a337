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
