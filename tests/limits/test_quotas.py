"""The Quotas service on memory and on Redis: what each limit lets through, what it refuses,
and what the refusal says."""

from __future__ import annotations

import uuid

import pytest

from ai_chat.limits import Refused, UserLimits
from tests.conftest import eventually
from tests.limits.conftest import MakeQuotas

KEEP = "Your text is still in the box."


def new_id() -> str:
    return uuid.uuid4().hex


async def test_messages_per_minute_refuse_with_the_wait(make_quotas: MakeQuotas):
    quotas = make_quotas()
    user, limits = new_id(), UserLimits(3, 0, 0)
    for _ in range(3):
        assert await quotas.check_send(user, limits) is None
    refusal = await quotas.check_send(user, limits)
    assert refusal is not None and refusal.kind == "messages_per_minute"
    assert refusal.retry_after_s is not None and 55 < refusal.retry_after_s <= 60
    assert refusal.message.startswith("You've sent 3 messages in the last minute; you can send")
    assert "send again in 60 s" in refusal.message and refusal.message.endswith(KEEP)
    assert await quotas.check_send(new_id(), limits) is None  # other users are not affected
    assert await quotas.check_send(user, UserLimits(0, 0, 0)) is None  # 0: no limit


async def test_the_minute_moves_on(make_quotas: MakeQuotas):
    quotas = make_quotas(message_window_s=1)
    user, limits = new_id(), UserLimits(2, 0, 0)
    assert await quotas.check_send(user, limits) is None
    assert await quotas.check_send(user, limits) is None
    refusal = await quotas.check_send(user, limits)
    assert refusal is not None and refusal.retry_after_s is not None
    assert refusal.retry_after_s <= 1
    assert "2 messages in the last 1 s" in refusal.message

    async def allowed() -> bool:
        return await quotas.check_send(user, limits) is None

    # Within a tenth of the default minute: the 1 s window was used, not the default.
    await eventually(allowed, timeout=6, what="the window to move on")


async def test_an_admin_changing_a_limit_keeps_what_was_used(make_quotas: MakeQuotas):
    quotas = make_quotas()
    user = new_id()
    for _ in range(3):
        assert await quotas.check_send(user, UserLimits(3, 0, 0)) is None
    assert await quotas.check_send(user, UserLimits(3, 0, 0)) is not None
    # Raised to 5: two more, not five more.
    assert await quotas.check_send(user, UserLimits(5, 0, 0)) is None
    assert await quotas.check_send(user, UserLimits(5, 0, 0)) is None
    assert await quotas.check_send(user, UserLimits(5, 0, 0)) is not None


async def test_tokens_per_day_refuse_once_used_up(make_quotas: MakeQuotas):
    quotas = make_quotas()
    user, limits = new_id(), UserLimits(0, 0, 1000)
    assert await quotas.check_send(user, limits) is None
    await quotas.record_tokens(user, limits, 600)
    assert await quotas.check_send(user, limits) is None  # 600 < 1000: one more reply
    await quotas.record_tokens(user, limits, 500)  # the reply that went over is counted whole
    assert await quotas.tokens_used(user) == 1100
    refusal = await quotas.check_send(user, limits)
    assert refusal is not None and refusal.kind == "tokens_per_day"
    assert refusal.message.startswith("You've used your daily 1,000 tokens; you can send again in")
    assert refusal.message.endswith(KEEP)
    # Used up in the current window: free again when it has ended and its weight fell
    # below the limit (at most two days for this 1.1 ×).
    assert refusal.retry_after_s is not None and 0 < refusal.retry_after_s <= 2 * 86_400
    assert await quotas.check_send(user, UserLimits(0, 0, 0)) is None
    assert await quotas.check_send(user, UserLimits(0, 0, 2000)) is None


async def test_tokens_are_counted_without_a_token_limit(make_quotas: MakeQuotas):
    quotas = make_quotas()
    user = new_id()
    await quotas.record_tokens(user, UserLimits(0, 0, 0), 5000)
    assert await quotas.tokens_used(user) == 5000
    # A limit set later sees them.
    assert await quotas.check_send(user, UserLimits(0, 0, 4000)) is not None


async def test_the_token_window_moves_on_when_it_said(make_quotas: MakeQuotas):
    quotas = make_quotas(token_window_s=1)
    user, limits = new_id(), UserLimits(0, 0, 100)
    await quotas.record_tokens(user, limits, 100)
    refusal = await quotas.check_send(user, limits)
    assert refusal is not None and refusal.retry_after_s is not None
    assert refusal.retry_after_s <= 2

    async def allowed() -> bool:
        return await quotas.check_send(user, limits) is None

    # Long before the default day: the 1 s window was used.
    await eventually(allowed, timeout=6, what="the token window to move on")


async def test_replies_at_once_per_user(make_quotas: MakeQuotas):
    quotas = make_quotas()
    user, limits = new_id(), UserLimits(0, 3, 0)
    for i in range(3):
        assert await quotas.acquire_reply(user, f"g{i}", limits, new_id()) is None
    refusal = await quotas.acquire_reply(user, "g3", limits, new_id())
    assert refusal is not None and refusal.kind == "concurrent_replies"
    assert refusal.retry_after_s is None
    assert refusal.message.startswith("You already have 3 replies in progress")
    assert refusal.message.endswith(KEEP)
    assert await quotas.acquire_reply(new_id(), "other", limits) is None  # another user
    await quotas.release_reply("g1")
    await quotas.release_reply("g1")  # twice: harmless
    assert await quotas.acquire_reply(user, "g3", limits, new_id()) is None
    assert await quotas.acquire_reply(user, "g4", UserLimits(0, 0, 0)) is None  # no limit


async def test_one_reply_per_conversation(make_quotas: MakeQuotas):
    quotas = make_quotas()
    user, limits, conversation = new_id(), UserLimits(0, 3, 0), new_id()
    assert await quotas.acquire_reply(user, "first", limits, conversation) is None
    refusal = await quotas.acquire_reply(new_id(), "second", limits, conversation)
    assert refusal is not None and refusal.kind == "conversation_busy"
    assert "still replying in this conversation" in refusal.message
    assert refusal.message.endswith(KEEP)
    # The refused reply took nothing: the user still has two slots.
    assert await quotas.acquire_reply(user, "a", limits, new_id()) is None
    assert await quotas.acquire_reply(user, "b", limits, new_id()) is None
    assert not quotas.slots.holds("second")
    # A reply that created its conversation takes it once its id exists.
    created = new_id()
    assert await quotas.hold_conversation("a", created)
    assert await quotas.acquire_reply(new_id(), "c", UserLimits(0, 0, 0), created) is not None
    await quotas.release_reply("a")  # frees both of its slots
    assert await quotas.acquire_reply(new_id(), "c", UserLimits(0, 0, 0), created) is None
    await quotas.release_reply("first")
    assert await quotas.acquire_reply(user, "third", limits, conversation) is None


async def test_reply_slot_as_a_context(make_quotas: MakeQuotas):
    quotas = make_quotas()
    user, limits = new_id(), UserLimits(0, 1, 0)
    async with quotas.reply_slot(user, "one", limits):
        with pytest.raises(Refused) as refused:
            async with quotas.reply_slot(user, "two", limits):
                pass
        assert refused.value.refusal.kind == "concurrent_replies"
    async with quotas.reply_slot(user, "two", limits):  # released on exit
        assert quotas.slots.holds("two")
    assert not quotas.slots.holds("two")


async def test_a_refused_reply_is_not_counted_as_a_message(make_quotas: MakeQuotas):
    quotas = make_quotas()
    user, limits = new_id(), UserLimits(2, 1, 0)
    assert await quotas.admit(user, "g1", limits, new_id()) is None  # message 1
    refusal = await quotas.admit(user, "g2", limits, new_id())
    assert refusal is not None and refusal.kind == "concurrent_replies"
    await quotas.release_reply("g1")
    assert await quotas.admit(user, "g3", limits, new_id()) is None  # message 2
    await quotas.release_reply("g3")
    refusal = await quotas.admit(user, "g4", limits, new_id())
    assert refusal is not None and refusal.kind == "messages_per_minute"
    assert not quotas.slots.holds("g4")  # a turn refused for messages gives its slot back


async def test_signin_throttle_per_account_and_address(make_quotas: MakeQuotas):
    quotas = make_quotas()  # 3 per account, 5 per address (conftest)
    bob, here = f"Bob-{new_id()}", f"10.{uuid.uuid4().int % 250}.0.1"
    assert await quotas.signin_blocked(bob, here) is None
    for _ in range(3):
        await quotas.signin_failed(bob, here)
    # The account is blocked from anywhere; the name's case doesn't matter.
    wait = await quotas.signin_blocked(bob.lower(), "192.0.2.7")
    assert wait is not None and 890 < wait <= 900
    # Another account from this address may still try, until the address's 5.
    alice = f"alice-{new_id()}"
    assert await quotas.signin_blocked(alice, here) is None
    await quotas.signin_failed(alice, here)
    await quotas.signin_failed(alice, here)
    assert await quotas.signin_blocked(alice, here) is not None  # 5 from this address
    assert await quotas.signin_blocked(alice, "192.0.2.8") is None
    # Success clears the account's count, not the address's.
    await quotas.signin_succeeded(bob, "192.0.2.7")
    assert await quotas.signin_blocked(bob, "192.0.2.7") is None
    assert await quotas.signin_blocked(bob, here) is not None


async def test_ipv6_addresses_count_by_their_64(make_quotas: MakeQuotas):
    quotas = make_quotas()
    prefix = f"2001:db8:{uuid.uuid4().int % 65536:x}:1"
    for host in range(5):
        await quotas.signin_failed(f"u{host}-{new_id()}", f"{prefix}::{host + 1}")
    assert await quotas.signin_blocked(new_id(), f"{prefix}::ffff") is not None
    assert await quotas.signin_blocked(new_id(), f"{prefix[:-1]}2::1") is None
