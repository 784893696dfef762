"""The fast reminder scan and batched queueing keep the rules of the one-row-at-a-time ones.

The scan reads one due-date range per kind (`kind_ranges`, `alert_ranges`) instead of one
wide range and a CASE; these tests pin the borrower ranges to a hand-written table and the
staff ranges to `alert_for` at every edge,
and check that a batch's shortcuts (loan headers without installments, checks read once per
batch) change nothing a borrower sees.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from lending.policy import Reminders
from services.loans import book as loans
from services.loans import reminders

from .helpers import book, borrower, local, manager_named, sent_reminders

TODAY = date(2026, 4, 3)
RULES = [
    Reminders(),  # the default policy: 3, 1, 0 before; 1, 3, 7, 15, 30 after
    Reminders(
        before_due_days=[7, 0],
        overdue_days=[2, 10],
        manager_alert_days=[5],
        admin_alert_days=20,
        window_start=time(8, 0),
        window_end=time(20, 0),
    ),
    Reminders(before_due_days=[2], overdue_days=[45], manager_alert_days=[1, 2, 90]),
]


def kind_in(ranges, due: date) -> list[str]:
    return [kind for kind, low, high in ranges if low <= due <= high]


# Which borrower reminder an installment is in, by days until its due date (negative:
# late), written out by hand for each rule set: (first day, last day, kind), inclusive.
# Days outside every row get nothing; LOOKBACK is how far back the scan reads.
KINDS_BY_DISTANCE = [
    [(0, 0, "due"), (1, 1, "before-1"), (2, 3, "before-3"), (-2, -1, "overdue-1"),
     (-6, -3, "overdue-3"), (-14, -7, "overdue-7"), (-29, -15, "overdue-15"),
     ("LOOKBACK", -30, "overdue-30")],
    [(0, 0, "due"), (1, 7, "before-7"), (-9, -2, "overdue-2"), ("LOOKBACK", -10, "overdue-10")],
    [(0, 2, "before-2"), ("LOOKBACK", -45, "overdue-45")],
]  # fmt: skip


@pytest.mark.parametrize(("rules", "table"), list(zip(RULES, KINDS_BY_DISTANCE, strict=True)))
def test_kind_ranges_follow_the_hand_written_table_at_every_distance(rules, table):
    ranges = reminders.kind_ranges(rules, TODAY)
    lookback = reminders.lookback_days(rules)
    assert lookback == max(
        [*rules.overdue_days, *rules.manager_alert_days, rules.admin_alert_days]
    ) + (reminders.LOOKBACK_BEYOND_LAST)
    rows = [(-lookback if low == "LOOKBACK" else low, high, kind) for low, high, kind in table]
    for days_until in range(-lookback - 5, max(rules.before_due_days) + 5):
        expected = [kind for low, high, kind in rows if low <= days_until <= high]
        found = kind_in(ranges, TODAY + timedelta(days=days_until))
        assert found == expected, days_until


@pytest.mark.parametrize("rules", RULES)
def test_alert_ranges_give_alert_for_at_every_distance(rules):
    ranges = reminders.alert_ranges(rules, TODAY)
    lookback = reminders.lookback_days(rules)
    for days_late in range(-3, lookback + 5):
        expected = reminders.alert_for(days_late, rules) if days_late <= lookback else []
        found = kind_in(ranges, TODAY - timedelta(days=days_late))
        assert sorted(found) == sorted(expected), days_late


async def test_a_reminder_reads_the_same_from_a_loan_header_as_from_the_whole_loan(world):
    """Batches render with loan headers (no installments read); the text must not differ."""
    await borrower(world, 1001, "Li")
    await borrower(world, 1002, "Wang", language="zh")
    await manager_named(world, 7001, "Wang Fang")
    runtime = world.runtime
    today = date(2026, 4, 1)
    for user_id in (1001, 1002):
        loan_id = await book(world, user_id, manager_id=7001)
        async with runtime.db.transaction() as conn:
            # A partial payment, so the "of ... already paid" line is in the text too.
            await conn.execute(
                "UPDATE installments SET paid_amount = '1000' WHERE loan_id = ? AND n = 1",
                (loan_id,),
            )
            whole = await loans.loan_in_conn(conn, loan_id)
            header = (await loans.loan_headers_in_conn(conn, [loan_id]))[loan_id]
        assert whole is not None
        installment = whole.installments[0]
        for kind in ("before-3", "before-1", "due", "overdue-7"):
            texts = [
                runtime.renderer.render(
                    view.locale,
                    "loan_reminder",
                    kind=kind,
                    courtesy=reminders.is_courtesy(kind),
                    days_until=(installment.due_date - today).days,
                    days_late=(today - installment.due_date).days,
                    installment=installment,
                    loan=view,
                    manager_name=view.manager_name,
                )
                for view in (whole, header)
            ]
            assert texts[0] == texts[1], (user_id, kind)
            assert "Wang Fang" in texts[0]


async def test_a_reminder_claimed_by_another_process_after_the_scan_is_not_queued(
    world, monkeypatch
):
    """The scan runs outside the write lock: what was claimed since is skipped, not doubled."""
    for user_id in (1001, 1002):
        await borrower(world, user_id, f"B{user_id}")
        await book(world, user_id)
    runtime = world.runtime
    world.clock.set(local(date(2026, 3, 31), 9, 30))
    today = runtime.local_now().date()
    stale = await reminders.find_due(runtime.db.conn, runtime.policy.reminders, today)
    assert [d.kind for d in stale] == ["before-3", "before-3"]
    # Another process queues the first borrower's reminder between our scan and our batch.
    async with runtime.db.transaction() as conn:
        first = stale[0]
        assert await reminders._claim(
            conn,
            first.installment_id,
            first.kind,
            first.user_id,
            today,
            datetime(2026, 3, 31, 1, 30, tzinfo=UTC),
        )

    async def scanned_before(*args):
        return stale

    monkeypatch.setattr(reminders, "find_due", scanned_before)
    assert await reminders.send_due_reminders(runtime) == 1
    monkeypatch.undo()
    assert len(await sent_reminders(world)) == 2
    rows = await runtime.db.fetchall("SELECT chat_id FROM outbox WHERE dedup_key LIKE 'reminder:%'")
    assert [row["chat_id"] for row in rows] == [stale[1].user_id]


def test_of_two_equally_urgent_reminders_the_oldest_installment_goes_first_in_any_order():
    from services.loans.reminders import Due, choose

    older = Due(11, 1, 501, "overdue-1", date(2026, 4, 1), "due", False, False)
    newer = Due(12, 2, 501, "overdue-1", date(2026, 4, 2), "due", False, False)
    assert choose([older, newer], set()) == [older]
    assert choose([newer, older], set()) == [older]  # PostgreSQL promises no row order
