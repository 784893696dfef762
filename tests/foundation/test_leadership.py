"""The lease and the fence (bot/leadership.py), on a lock the test scripts and a clock it
moves: when a process counts as active, how long a taker waits, when keeping the lock
gives up, and which Bot API calls the fence lets through.

The numbers are the deployed ones, worked by hand: a 2 s lease from each confirmation's
sending, a 2.5 s grace before a taker acts."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import pytest

from bot import leadership
from bot.leadership import FencedRequest, Leadership, NotActive
from storage.leadership import LockLost


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ScriptedLock:
    """A lock whose answers the test gives in advance: `takes` for try_acquire (True,
    False), `confirms` for confirm (seconds it takes, or LockLost); each call is written
    down with the clock's time."""

    outlives_holder = True  # as PostgreSQL's: a live holder can lose it

    def __init__(self, clock: Clock, takes: list[bool], confirms: list[Any]) -> None:
        self.clock = clock
        self.takes = list(takes)
        self.confirms = list(confirms)
        self.calls: list[tuple[str, float]] = []
        self.on_take: Any = None

    async def try_acquire(self) -> bool:
        self.calls.append(("take", self.clock.now))
        taken = self.takes.pop(0)
        if self.on_take is not None:
            self.on_take(taken)
        return taken

    async def confirm(self) -> None:
        self.calls.append(("confirm", self.clock.now))
        answer = self.confirms.pop(0)  # an IndexError: confirmed more often than scripted
        if isinstance(answer, BaseException):
            raise answer
        self.clock.now += answer  # the answer takes this long to come back

    async def release(self) -> None:
        self.calls.append(("release", self.clock.now))

    def holder(self) -> str:
        return "the other process"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The clock, and Leadership's waits (the standby's pauses, the grace) made to move it
    instead of taking time."""
    moved = Clock()

    async def wait(event: asyncio.Event, seconds: float) -> bool:
        if event.is_set():
            return True
        moved.now += max(seconds, 0)
        return event.is_set()

    monkeypatch.setattr(leadership, "_wait", wait)
    return moved


def leader(lock: ScriptedLock, clock: Clock) -> Leadership:
    # confirm_every=0: keep() confirms back to back, the clock moves only with the answers.
    return Leadership(lock, monotonic=clock, confirm_every=0)


async def active_at(clock: Clock, lock: ScriptedLock) -> Leadership:
    """A Leadership that took the lock and confirmed it at once (its grace is over)."""
    chosen = leader(lock, clock)
    assert await chosen.wait_until_active(asyncio.Event())
    return chosen


async def test_a_process_stops_being_active_when_its_lease_runs_out_without_any_check(clock):
    lock = ScriptedLock(clock, takes=[True], confirms=[0.0])
    chosen = await active_at(clock, lock)
    confirmed = clock.now
    clock.now = confirmed + 1.99
    assert chosen.is_active()
    clock.now = confirmed + 2.0  # nothing ran in between: no check, no failure seen
    assert not chosen.is_active()


async def test_the_lease_runs_from_when_the_confirmation_was_sent(clock):
    # The server answers 1.5 s late: it saw the lock held when the question reached it,
    # at the latest when it was sent plus 1.5 s; the lease must not outlive sent + 2 s.
    lock = ScriptedLock(clock, takes=[True], confirms=[1.5])
    chosen = leader(lock, clock)
    assert await chosen.wait_until_active(asyncio.Event())
    sent = next(at for call, at in lock.calls if call == "confirm")
    assert clock.now == sent + 1.5
    assert chosen.is_active()
    clock.now = sent + 2.0  # only 0.5 s after the answer came back
    assert not chosen.is_active()


async def test_a_taker_waits_the_grace_then_confirms_before_it_acts(clock):
    lock = ScriptedLock(clock, takes=[True], confirms=[0.0])
    chosen = leader(lock, clock)
    assert not chosen.is_active()
    assert await chosen.wait_until_active(asyncio.Event())
    (_, taken), (_, confirmed) = lock.calls
    assert lock.calls[0][0] == "take" and lock.calls[1][0] == "confirm"
    assert confirmed - taken == 2.5
    assert chosen.is_active()


async def test_a_lock_that_frees_only_with_its_holder_needs_no_grace(clock):
    """A SQLite file's flock: found free, its holder is dead, so no lease can be running."""
    lock = ScriptedLock(clock, takes=[True], confirms=[0.0])
    lock.outlives_holder = False
    chosen = leader(lock, clock)
    assert await chosen.wait_until_active(asyncio.Event())
    (_, taken), (_, confirmed) = lock.calls
    assert confirmed == taken


async def test_a_lock_that_frees_only_with_its_holder_has_no_lease(clock):
    """On SQLite's flock a stalled event loop (no confirmation for longer than a lease)
    must not make the only process refuse its own updates and sends."""
    lock = ScriptedLock(clock, takes=[True], confirms=[0.0])
    lock.outlives_holder = False
    chosen = leader(lock, clock)
    assert await chosen.wait_until_active(asyncio.Event())
    clock.now += 60
    assert chosen.is_active()


def test_the_grace_outlasts_a_lease_and_a_confirmation_on_its_way():
    # What makes two never act at once: the old holder's lease (from its last send) is
    # over before the taker's grace is, even with a request in flight when it ran out.
    assert leadership.TAKEOVER_GRACE_SECONDS > leadership.LEASE_SECONDS


async def test_a_lock_lost_during_the_grace_means_standing_by_again(clock):
    stop = asyncio.Event()
    lock = ScriptedLock(clock, takes=[True, False], confirms=[LockLost("connection gone")])

    def stop_once_refused(taken: bool) -> None:
        if not taken:
            stop.set()  # the second try found the lock taken: let the test look

    lock.on_take = stop_once_refused
    chosen = leader(lock, clock)
    assert not await chosen.wait_until_active(stop)
    assert [call for call, _ in lock.calls] == ["take", "confirm", "take"]
    assert not chosen.is_active()


async def test_a_lock_lost_during_the_grace_is_taken_again_later(clock):
    lock = ScriptedLock(clock, takes=[True, False, True], confirms=[LockLost("gone"), 0.0])
    chosen = leader(lock, clock)
    assert await chosen.wait_until_active(asyncio.Event())
    calls = [call for call, _ in lock.calls]
    assert calls == ["take", "confirm", "take", "take", "confirm"]
    # The second taking waited a whole grace again before its confirmation.
    assert lock.calls[4][1] - lock.calls[3][1] == 2.5
    assert chosen.is_active()


async def test_stopping_during_the_grace_lets_the_lock_go(clock):
    stop = asyncio.Event()
    lock = ScriptedLock(clock, takes=[True], confirms=[])
    lock.on_take = lambda taken: stop.set()
    chosen = leader(lock, clock)
    assert not await chosen.wait_until_active(stop)
    assert [call for call, _ in lock.calls] == ["take", "release"]
    assert not chosen.is_active()


async def test_keeping_the_lock_ends_with_lost_when_a_confirmation_fails(clock):
    lock = ScriptedLock(clock, takes=[True], confirms=[0.0, 0.3, 0.3, LockLost("terminated")])
    chosen = await active_at(clock, lock)
    assert not chosen.lost.is_set()
    await chosen.keep()
    assert chosen.lost.is_set()
    assert not chosen.is_active()
    assert [call for call, _ in lock.calls].count("confirm") == 4


async def test_keeping_the_lock_ends_with_lost_when_a_confirmation_outlasts_the_lease(clock):
    # 1.9 s answers keep the lease (sent at t, valid until t + 2); a 2.1 s one does not.
    lock = ScriptedLock(clock, takes=[True], confirms=[0.0, 1.9, 1.9, 2.1])
    chosen = await active_at(clock, lock)
    await chosen.keep()
    assert chosen.lost.is_set()
    assert not chosen.is_active()
    assert [call for call, _ in lock.calls][-1] == "release"  # let go for the next one


class Recorded:
    """The request underneath the fence: records each call; `during` runs while it is
    on its way (the lease may run out then)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.during: Any = None

    async def do_request(self, url: str, method: str, request_data=None, **timeouts):
        self.calls.append(url.rsplit("/", 1)[-1])
        if self.during is not None:
            self.during()
        return 200, b'{"ok": true, "result": []}'


class Lease:
    def __init__(self) -> None:
        self.active = True

    def __call__(self) -> bool:
        return self.active


URL = "http://127.0.0.1:1/bot123:TOKEN/"


async def test_the_fence_sends_nothing_off_the_lease():
    inner, lease = Recorded(), Lease()
    fence = FencedRequest(inner, lease)  # type: ignore[arg-type]
    assert await fence.do_request(URL + "sendMessage", "POST") == (200, inner_answer())
    lease.active = False
    for method in ("sendMessage", "getUpdates", "getMe"):
        with pytest.raises(NotActive):
            await fence.do_request(URL + method, "POST")
    assert inner.calls == ["sendMessage"]


def inner_answer() -> bytes:
    return b'{"ok": true, "result": []}'


async def test_updates_that_come_back_after_the_lease_ran_out_are_thrown_away():
    inner, lease = Recorded(), Lease()
    fence = FencedRequest(inner, lease)  # type: ignore[arg-type]
    inner.during = lambda: setattr(lease, "active", False)
    with pytest.raises(NotActive):
        await fence.do_request(URL + "getUpdates", "POST")
    assert inner.calls == ["getUpdates"]  # it went out while active, its answer is dropped


async def test_other_answers_that_come_back_after_the_lease_ran_out_are_kept():
    # A message already sent has been sent: the outbox must record it, not send it again.
    inner, lease = Recorded(), Lease()
    fence = FencedRequest(inner, lease)  # type: ignore[arg-type]
    inner.during = lambda: setattr(lease, "active", False)
    assert await fence.do_request(URL + "sendMessage", "POST") == (200, inner_answer())


def test_a_fenced_call_counts_as_not_sent():
    # PTB and the outbox treat a NetworkError as a call that did not go out.
    from telegram.error import NetworkError

    assert isinstance(NotActive(), NetworkError)


async def test_a_fenced_call_nobody_awaited_is_one_line_not_a_traceback(caplog):
    # PTB's updater can stop while the fence throws a long poll's answer away: that poll's
    # task ends with NotActive, never retrieved, and asyncio reports it as it goes.
    caplog.set_level(logging.INFO)

    async def poll() -> None:
        raise NotActive()

    task = asyncio.get_running_loop().create_task(poll())
    await asyncio.sleep(0)
    del task
    gc.collect()
    reported = [r for r in caplog.records if r.name == "asyncio"]
    assert len(reported) == 1
    assert reported[0].levelno == logging.INFO and reported[0].exc_info is None
    assert "fence" in reported[0].getMessage()


async def test_other_exceptions_nobody_awaited_still_come_with_their_traceback(caplog):
    async def broken() -> None:
        raise ValueError("a real bug")

    task = asyncio.get_running_loop().create_task(broken())
    await asyncio.sleep(0)
    del task
    gc.collect()
    [reported] = [r for r in caplog.records if r.name == "asyncio"]
    assert reported.levelno == logging.ERROR and reported.exc_info is not None
