"""Faults on demand: server errors, timeouts, latency, blocked users, flood limits."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot.sandbox.core import SandboxCore
from bot.sandbox.faults import Faults
from bot.sandbox.request import SandboxRequest

LI, WANG = 1001, 7001
# RetryAfter's message reads its deprecated int `retry_after`; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def sandbox(seed: int = 0) -> SandboxCore:
    core = SandboxCore(faults=Faults(seed=seed))
    core.user(id=LI, name="Li", started=True)
    core.user(id=WANG, name="Wang", started=True)
    return core


async def _send_many(core: SandboxCore, count: int) -> list[str]:
    outcomes = []
    async with Bot("123:TEST", request=SandboxRequest(core)) as bot:
        for number in range(count):
            try:
                await bot.send_message(LI, f"#{number}")
                outcomes.append("ok")
            except TimedOut:
                outcomes.append("timeout")
            except NetworkError as error:
                outcomes.append(str(error))
    return outcomes


async def test_a_fraction_of_calls_fail_with_502_repeatably():
    first, second = sandbox(seed=7), sandbox(seed=7)
    first.faults.fail(0.3)
    second.faults.fail(0.3)
    outcomes = await _send_many(first, 50)
    assert outcomes == await _send_many(second, 50)
    assert 5 < outcomes.count("Bad Gateway") < 25
    assert len(first.chat_messages(LI)) == outcomes.count("ok")


async def test_fail_next_is_deterministic_and_spares_other_methods():
    core = sandbox()
    core.faults.fail_next("sendMessage", 2, status=500)
    assert await _send_many(core, 3) == ["Internal Server Error", "Internal Server Error", "ok"]


async def test_timeouts_raise_timed_out_and_may_still_take_effect():
    core = sandbox()
    core.faults.fail_next("sendMessage", timeout=True)
    core.faults.fail_next("sendMessage", timeout=True, executed=True)
    assert await _send_many(core, 3) == ["timeout", "timeout", "ok"]
    assert [m.text for m in core.chat_messages(LI)] == ["#1", "#2"]  # #1 arrived, unanswered


async def test_added_latency_delays_each_call():
    core = sandbox()
    core.faults.latency(0.05)
    started = time.monotonic()
    await _send_many(core, 3)
    assert time.monotonic() - started >= 0.15


async def test_a_user_who_blocked_the_bot_gives_403():
    core = sandbox()
    core.user(LI, "Li").block_bot()
    async with Bot("123:TEST", request=SandboxRequest(core)) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(LI, "reminder")
        assert (await bot.send_message(WANG, "still fine")).text == "still fine"
    assert core.faults.injected["403"] == 1


async def test_private_chat_flood_limit_allows_a_burst_then_429_until_the_clock_moves():
    core = sandbox()
    core.faults.flood_limits(private_burst=3, private_per_second=1)
    async with Bot("123:TEST", request=SandboxRequest(core)) as bot:
        for number in range(3):
            await bot.send_message(LI, f"burst {number}")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(LI, "one too many")
        assert "Retry in 1 second" in str(raised.value)
        await bot.send_message(WANG, "another chat is not limited")
        core.clock.advance(timedelta(seconds=1))
        await bot.send_message(LI, "after waiting")


async def test_group_flood_limit_is_20_a_minute():
    core = sandbox()
    core.faults.flood_limits()
    async with Bot("123:TEST", request=SandboxRequest(core)) as bot:
        for number in range(20):
            await bot.send_message(core.group.id, f"lead {number}")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(core.group.id, "lead 21")
        assert "Retry in 3 second" in str(raised.value)


async def test_overall_flood_limit_is_30_a_second():
    core = SandboxCore()
    core.faults.flood_limits(private_burst=5)
    async with Bot("123:TEST", request=SandboxRequest(core)) as bot:
        for user_id in range(1, 31):
            core.user(user_id, f"U{user_id}", started=True)
            await bot.send_message(user_id, "news")
        core.user(31, "U31", started=True)
        with pytest.raises(RetryAfter):
            await bot.send_message(31, "news")
    assert core.faults.injected["429"] == 1
