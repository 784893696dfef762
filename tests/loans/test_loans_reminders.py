"""Repayment reminders over a loan's life, with the clock moved instead of waited for."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from services.loans import payments, reminders
from tests.formats import grouped

from .helpers import book, borrower, local, local_hours, manager_named, per_day, sent_reminders

# Moments of each local day the scheduled work runs in these walks: the night ones must
# send nothing (China's collection rules), the day ones whatever is due.
TICKS = ((3, 0), (9, 30), (15, 0), (20, 30), (22, 0))


def reminder_messages(user):
    return [m for m in user.bot_messages() if "installment" in m.text and "Loan no." in m.text]


async def walk(world, first: date, last: date, actions=None) -> None:
    """Run the scheduled work at every tick of every day; `actions[day]` runs at noon."""
    actions = actions or {}
    day = first
    while day <= last:
        for hour, minute in TICKS:
            if hour >= 12 and day in actions:
                world.clock.set(local(day, 12))
                await actions.pop(day)()
                await world.settle()
            world.clock.set(local(day, hour, minute))
            await world.run_due_work()
        day += timedelta(days=1)


async def test_a_twelve_month_loan_on_time_late_and_partial(world):
    li = await borrower(world, 1001, "Li")
    wang = world.manager(0)
    wang.command("/start")
    await world.settle()
    await manager_named(world, 7001, "Wang Fang")
    loan_id = await book(world, 1001, manager_id=7001)
    runtime = world.runtime

    async def report_and_confirm():
        # The borrower presses "I've paid" on the reminder; the manager confirms it.
        li.press("✅ I've paid")
        await world.settle()
        assert "told Wang Fang" in li.last_text()
        assert "Li says they paid" in wang.last_text()
        wang.press("✅ Confirm payment")
        await world.settle()
        assert "Payment confirmed" in li.last_text()

    async def manager_records(n: int, amount: str | None = None):
        wang.command(f"/paid {loan_id} {n}" + (f" {amount}" if amount else ""))
        await world.settle()

    async def pay_in_full(n: int):
        await payments.record_payment(runtime, 7001, loan_id, n)

    actions = {
        date(2026, 4, 2): report_and_confirm,  # installment 1, a day early
        date(2026, 5, 10): lambda: manager_records(2),  # installment 2, a week late
        date(2026, 6, 1): lambda: manager_records(3, "5000"),  # installment 3, in two parts
        date(2026, 6, 5): lambda: manager_records(3),
    }
    due_days = [date(2026, 4, 3)] + [date(2026 + (m // 12), m % 12 + 1, 3) for m in range(4, 15)]
    for n, due in enumerate(due_days[3:], start=4):
        actions[due] = lambda n=n: pay_in_full(n)

    await walk(world, date(2026, 3, 4), date(2027, 3, 20), actions)

    expected = [
        (1, "before-3", "2026-03-31"),
        (1, "before-1", "2026-04-02"),
        (2, "before-3", "2026-04-30"),
        (2, "before-1", "2026-05-02"),
        (2, "due", "2026-05-03"),
        (2, "overdue-1", "2026-05-04"),
        (2, "overdue-3", "2026-05-06"),
        (2, "overdue-7", "2026-05-10"),
        (3, "before-3", "2026-05-31"),
        (3, "before-1", "2026-06-02"),
        (3, "due", "2026-06-03"),
        (3, "overdue-1", "2026-06-04"),
    ]
    for n, due in enumerate(due_days[3:], start=4):
        expected += [
            (n, "before-3", (due - timedelta(days=3)).isoformat()),
            (n, "before-1", (due - timedelta(days=1)).isoformat()),
            (n, "due", due.isoformat()),
        ]
    assert await sent_reminders(world) == sorted(expected, key=lambda e: (e[2], e[0]))

    # What the borrower saw: exactly those, each once, only by day, never two in a day.
    seen = reminder_messages(li)
    assert len(seen) == len(expected)
    assert all(9 <= hour < 21 for hour in local_hours(seen))
    assert max(per_day(seen).values()) == 1
    assert all("Wang Fang" in m.text for m in seen)
    # After the partial payment the reminders ask for what is left of installment 3.
    loan = await runtime.db.fetchone(
        "SELECT payment FROM installments WHERE loan_id = ? AND n = 3", (loan_id,)
    )
    from decimal import Decimal

    rest = Decimal(loan["payment"]) - Decimal(5000)
    overdue_3 = [m.text for m in seen if "installment 3 of 12" in m.text][-1]
    assert "1 day late" in overdue_3 and grouped(rest) in overdue_3
    # The manager was alerted once, at 3 days late; the loan is closed at the end.
    alerts = [m.text for m in wang.bot_messages() if "days late" in m.text]
    assert len(alerts) == 1 and "3 days late" in alerts[0]
    status = await runtime.db.fetchval("SELECT status FROM loans WHERE id = ?", (loan_id,))
    assert status == "closed"
    assert "fully repaid" in li.last_text()


async def test_after_downtime_only_what_still_applies_is_sent(world):
    li = await borrower(world, 1001, "Li")
    await book(world, 1001, manager_id=7001)  # installment 1 due 2026-04-03
    # The bot is down from 29 March until 12 April, 09:30 (9 days after the due date).
    world.clock.set(local(date(2026, 4, 12), 9, 30))
    await world.run_due_work()
    assert await sent_reminders(world) == [(1, "overdue-7", "2026-04-12")]
    assert "9 days late" in reminder_messages(li)[-1].text
    # Nothing more until the next notice applies (15 days), and that one once.
    await walk(world, date(2026, 4, 12), date(2026, 4, 20))
    assert await sent_reminders(world) == [
        (1, "overdue-7", "2026-04-12"),
        (1, "overdue-15", "2026-04-18"),
    ]
    # The manager's 3-day alert was caught up once, the 15-day one on its day.
    kinds = await world.runtime.db.fetchall(
        "SELECT kind, sent_on FROM reminders_sent WHERE kind LIKE 'alert-%' ORDER BY sent_on"
    )
    assert [(r["kind"], str(r["sent_on"])) for r in kinds] == [
        ("alert-manager-3", "2026-04-12"),
        ("alert-manager-15", "2026-04-18"),
    ]


async def test_stop_silences_courtesy_reminders_but_not_overdue_notices(world):
    li = await borrower(world, 1001, "Li")
    await book(world, 1001)
    li.command("/stop")
    await world.settle()
    assert "still come" in li.last_text()
    await walk(world, date(2026, 3, 30), date(2026, 4, 5))
    assert await sent_reminders(world) == [(1, "overdue-1", "2026-04-04")]
    li.command("/resume")
    await world.settle()
    await payments.record_payment(world.runtime, 7001, 1, 1)
    await walk(world, date(2026, 4, 29), date(2026, 5, 1))
    assert (2, "before-3", "2026-04-30") in await sent_reminders(world)


async def test_one_reminder_a_day_across_two_loans(world):
    li = await borrower(world, 1001, "Li")
    await book(world, 1001)
    await book(world, 1001)
    await walk(world, date(2026, 3, 31), date(2026, 3, 31))
    assert len(await sent_reminders(world)) == 1
    assert len(reminder_messages(li)) == 1


async def test_a_restart_in_the_middle_of_sending_sends_nothing_twice(world, monkeypatch):
    people = [await borrower(world, 2000 + i, f"B{i}") for i in range(30)]
    for person in people:
        await book(world, person.id)
    world.clock.set(local(date(2026, 3, 31), 9, 30))
    # The process dies while queueing: after 2 batches of 8, in the middle of the third.
    monkeypatch.setattr(reminders, "BATCH", 8)
    original = reminders._send_one
    calls = 0

    async def dying(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 20:
            raise RuntimeError("killed")
        return await original(*args, **kwargs)

    monkeypatch.setattr(reminders, "_send_one", dying)
    with pytest.raises(RuntimeError):
        await reminders.send_due_reminders(world.runtime)
    assert len(await sent_reminders(world)) == 16  # the dying batch left nothing behind
    # Deliver a few of the queued ones, then "restart" the process with the rest pending.
    await world.app.outbox.send_due()
    monkeypatch.setattr(reminders, "_send_one", original)
    await world.restart()
    await world.run_due_work()
    await world.run_due_work()  # the next tick finds nothing new
    for person in people:
        assert len(reminder_messages(person)) == 1, person.id
    assert len(await sent_reminders(world)) == 30


async def test_queueing_gives_the_event_loop_a_turn_between_batches(world, monkeypatch):
    """A batch runs without yielding (SQLite on the loop's thread); between batches the
    loop must run what waits, such as the outbox marking what Telegram just accepted."""
    people = [await borrower(world, 2000 + i, f"B{i}") for i in range(20)]
    for person in people:
        await book(world, person.id)
    world.clock.set(local(date(2026, 3, 31), 9, 30))
    monkeypatch.setattr(reminders, "BATCH", 8)
    turns = 0
    seen = []
    original = reminders._write_batch

    async def counting(*args, **kwargs):
        seen.append(turns)
        return await original(*args, **kwargs)

    async def other_work():
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    monkeypatch.setattr(reminders, "_write_batch", counting)
    other = asyncio.create_task(other_work())
    try:
        assert await reminders.send_due_reminders(world.runtime) == 20
    finally:
        other.cancel()
    assert len(seen) == 3
    assert seen[0] < seen[1] < seen[2], seen


async def test_a_borrower_who_blocked_the_bot_is_skipped_and_the_manager_told_once(world):
    li = await borrower(world, 1001, "Li")
    wang = world.manager(0)
    wang.command("/start")
    await world.settle()
    await book(world, 1001, manager_id=7001)
    li.block_bot()
    await walk(world, date(2026, 3, 31), date(2026, 4, 8))
    told = [m.text for m in wang.bot_messages() if "blocked the bot" in m.text]
    assert len(told) == 1
    # Only the first reminder was attempted; while unreachable nothing else is queued.
    assert await sent_reminders(world) == [(1, "before-3", "2026-03-31")]
    # Back in touch: the notice that applies now is caught up.
    li.unblock_bot()
    li.command("/loan")
    await world.settle()
    await walk(world, date(2026, 4, 9), date(2026, 4, 9))
    assert (1, "overdue-3", "2026-04-09") in await sent_reminders(world)


async def test_night_ticks_send_nothing(world):
    await borrower(world, 1001, "Li")
    await book(world, 1001)
    for hour in (21, 23, 0, 5, 8):
        world.clock.set(
            local(date(2026, 3, 31), hour, 59) if hour < 21 else local(date(2026, 3, 31), hour, 0)
        )
        assert await reminders.send_due_reminders(world.runtime) == 0
    world.clock.set(local(date(2026, 4, 1), 9, 0))
    assert await reminders.send_due_reminders(world.runtime) == 1
