"""Repayment reminders, planned from the database: each (installment, kind) at most once.

Kinds, from `policy.reminders`: `before-3`, `before-1` (days before the due date), `due`
(on the day) and `overdue-1`, `overdue-3`, ... (days after). On any local day the kind an
unpaid installment is *in* follows from how far its due date is:

    due in 2-3 days -> before-3     due today -> due     1-2 days late -> overdue-1
    due tomorrow    -> before-1     3-6 days late -> overdue-3   ...   30+ -> overdue-30

so the scan asks one question — "which installments are in a kind that was never sent?" —
and catching up after downtime needs no special case: a borrower whose bot was down for a
week gets the overdue notice that applies now (overdue-7, saying how late it really is),
not the stale "due in 3 days" for a date already past, nor a pile of the notices missed.

Rules on top: only between `window_start` and `window_end` local time (China's collection
rules forbid contact at night); at most one borrower reminder per borrower per local day
(the most urgent one); paid installments get none, and one the borrower reported as paid
gets none while the manager confirms; `/stop` silences the courtesy kinds (before and on
the due day) but never overdue notices; a borrower who blocked the bot is skipped (and
caught up once they come back). Managers are alerted at `manager_alert_days` overdue, the
admins at `admin_alert_days`, through the same table so those are exactly-once too.

Exactly once: the `reminders_sent` row (primary key installment + kind) and the outbox row
are written in one transaction, so a crash either loses both (and the next scan redoes
them) or keeps both (and the outbox delivers); a restart in the middle of a day's
sending finds the rows and sends nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from lending.policy import Reminders
from services.loans.book import (
    InstallmentView,
    LoanView,
    borrower_buttons,
    borrower_name,
    installment_view,
    loan_headers_in_conn,
    loan_in_conn,
)
from services.people import managers
from services.runtime import Runtime
from storage import outbox
from storage.db import Connection, in_batches
from storage.loans import reminders as reminders_store

log = logging.getLogger(__name__)

# Overdue notices stop this many days after the last configured one (collections take
# over); it also bounds the scan, so a book full of old defaults stays fast.
LOOKBACK_BEYOND_LAST = 60
# Reminders (or staff alerts) written per transaction (storage.db.in_batches says why
# batches must stay short): 50 take ~10-25 ms.
BATCH = 50
COURTESY_PREFIXES = ("before-", "due")


def is_courtesy(kind: str) -> bool:
    """Reminders before the due date and on it: the ones `/stop` turns off."""
    return kind.startswith(COURTESY_PREFIXES)


def kind_for(days_until_due: int, rules: Reminders) -> str | None:
    """The reminder kind an installment is in, given days until its due date (negative: late)."""
    if days_until_due >= 0:
        at_or_after = [n for n in sorted(rules.before_due_days) if n >= days_until_due]
        if not at_or_after:
            return None
        n = at_or_after[0]
        return "due" if n == 0 else f"before-{n}"
    late = -days_until_due
    passed = [n for n in sorted(rules.overdue_days) if n <= late]
    return f"overdue-{passed[-1]}" if passed else None


def alert_for(days_late: int, rules: Reminders) -> list[str]:
    """Staff alert kinds an installment this late is in (manager's latest threshold, admin)."""
    kinds = []
    passed = [n for n in sorted(rules.manager_alert_days) if n <= days_late]
    if passed:
        kinds.append(f"alert-manager-{passed[-1]}")
    if days_late >= rules.admin_alert_days:
        kinds.append(f"alert-admin-{rules.admin_alert_days}")
    return kinds


def urgency(kind: str) -> tuple[int, int]:
    """Sort key, most urgent first: later overdue notices, then due, then before-1, before-3."""
    if kind.startswith("overdue-"):
        return (0, -int(kind.removeprefix("overdue-")))
    if kind == "due":
        return (1, 0)
    return (2, int(kind.removeprefix("before-")))


def lookback_days(rules: Reminders) -> int:
    last = max([*rules.overdue_days, *rules.manager_alert_days, rules.admin_alert_days])
    return last + LOOKBACK_BEYOND_LAST


def in_window(runtime: Runtime) -> bool:
    rules = runtime.policy.reminders
    now = runtime.local_now().time()
    return rules.window_start <= now < rules.window_end


def kind_ranges(rules: Reminders, today: date) -> list[tuple[str, date, date]]:
    """Each borrower kind with the due dates (inclusive) of the installments in it on `today`.

    The ranges follow `kind_for` exactly and do not overlap: `before-3` holds due dates 2-3
    days ahead, `due` today, `overdue-30` 30 days ago back to the lookback. The scan reads
    each range with its kind as a constant, instead of one wide range and a CASE per row.
    """
    ranges: list[tuple[str, date, date]] = []
    previous = -1
    for n in sorted(set(rules.before_due_days)):
        kind = "due" if n == 0 else f"before-{n}"
        ranges.append((kind, today + timedelta(days=previous + 1), today + timedelta(days=n)))
        previous = n
    late = sorted(set(rules.overdue_days))
    for n, following in zip(late, [*late[1:], lookback_days(rules) + 1], strict=True):
        ranges.append(
            (f"overdue-{n}", today - timedelta(days=following - 1), today - timedelta(days=n))
        )
    return ranges


def alert_ranges(rules: Reminders, today: date) -> list[tuple[str, date, date]]:
    """Each staff alert kind with the due dates (inclusive) of the installments in it (`alert_for`)."""
    ranges: list[tuple[str, date, date]] = []
    last = lookback_days(rules)
    manager = sorted(set(rules.manager_alert_days))
    for n, following in zip(manager, [*manager[1:], last + 1], strict=True):
        ranges.append(
            (f"alert-manager-{n}", today - timedelta(days=following - 1), today - timedelta(days=n))
        )
    admin = rules.admin_alert_days
    ranges.append(
        (f"alert-admin-{admin}", today - timedelta(days=last), today - timedelta(days=admin))
    )
    return ranges


@dataclass(frozen=True, slots=True)
class Due:
    """One reminder to send: an installment in a kind that was never sent."""

    installment_id: int
    loan_id: int
    user_id: int
    kind: str
    due_date: date
    status: str
    paused: bool
    unreachable: bool
    reminded_today: bool = False  # the borrower already had a reminder on this local day


async def find_due(conn: Connection, rules: Reminders, today: date) -> list[Due]:
    """Borrower reminders whose time has come on `today` and that were never sent.

    This is the benchmarked scan (bench/bench_reminders.py), one query over the ranges
    of `kind_ranges` (storage.loans.reminders.unsent_reminders).
    """
    rows = await reminders_store.unsent_reminders(conn, kind_ranges(rules, today), today)
    return [
        Due(
            installment_id=row["id"],
            loan_id=row["loan_id"],
            user_id=row["user_id"],
            kind=row["kind"],
            due_date=row["due_date"],
            status=row["status"],
            paused=bool(row["paused"]),
            unreachable=bool(row["unreachable"]),
            reminded_today=bool(row["reminded_today"]),
        )
        for row in rows
    ]


def choose(candidates: list[Due], already_today: set[int]) -> list[Due]:
    """What is sent: the most urgent reminder of each borrower not yet reminded today.

    Reported installments wait for the manager; paused borrowers get no courtesy kinds;
    unreachable ones get nothing until they write to the bot again.
    """
    best: dict[int, Due] = {}
    for due in candidates:
        if due.status == "reported" or due.unreachable:
            continue
        if due.paused and is_courtesy(due.kind):
            continue
        if due.user_id in already_today or due.reminded_today:
            continue
        current = best.get(due.user_id)
        # Equally urgent: the oldest installment, whatever order the database listed them in.
        rank = (urgency(due.kind), due.due_date, due.installment_id)
        if current is None or rank < (
            urgency(current.kind),
            current.due_date,
            current.installment_id,
        ):
            best[due.user_id] = due
    return sorted(best.values(), key=lambda d: (d.user_id, d.installment_id))


async def send_due_reminders(runtime: Runtime) -> int:
    """Scheduled work (bot/jobs.py DUE_WORK): queue today's reminders and staff alerts."""
    if not in_window(runtime):
        return 0
    rules = runtime.policy.reminders
    today = runtime.local_now().date()
    chosen = choose(await find_due(runtime.db.conn, rules, today), set())
    queued = 0
    async for dues in in_batches(chosen, BATCH):
        async with runtime.db.transaction() as conn:
            batch = await _batch_context(conn, dues, today)
            for due in dues:
                await _send_one(conn, runtime, due, today, batch)
            queued += await _write_batch(conn, runtime, batch, today)
    queued += await send_staff_alerts(runtime, today)
    if queued:
        runtime.wake_outbox()
    return queued


async def _claim(
    conn: Connection, installment_id: int, kind: str, user_id: int, today: date, now: datetime
) -> bool:
    """Record (installment, kind) as sent; False when it already was (the exactly-once gate)."""
    return await reminders_store.claim_reminder(conn, installment_id, kind, user_id, today, now)


@dataclass
class _Batch:
    """A batch of reminders: what it needs, read in four queries inside its write
    transaction, and what it writes, in two statements at the end of it."""

    installments: dict[int, InstallmentView]
    loans: dict[int, LoanView]
    sent: set[tuple[int, str]]  # (installment, kind) already in reminders_sent
    reminded: set[int]  # borrowers with a reminder today; grows as the batch claims
    claims: list[Due] = field(default_factory=list)
    messages: list[outbox.Queued] = field(default_factory=list)


async def _batch_context(conn: Connection, dues: list[Due], today: date) -> _Batch:
    installment_ids = [due.installment_id for due in dues]
    user_ids = sorted({due.user_id for due in dues})
    # First: another process's batch for these borrowers commits before this one reads.
    await reminders_store.lock_borrowers(conn, user_ids)
    installments = {
        row["id"]: installment_view(row)
        for row in await reminders_store.installments_by_ids(conn, installment_ids)
    }
    sent = await reminders_store.sent_kinds(conn, installment_ids)
    reminded = await reminders_store.reminded_on(conn, today, user_ids)
    loans = await loan_headers_in_conn(conn, sorted({due.loan_id for due in dues}))
    return _Batch(installments=installments, loans=loans, sent=sent, reminded=reminded)


async def _send_one(
    conn: Connection, runtime: Runtime, due: Due, today: date, batch: _Batch
) -> int:
    """One reminder of a batch: re-checked, rendered and added to the batch's writes."""
    # Re-checked against what the batch read inside its write transaction: a second process,
    # or a payment confirmed since the scan, must not produce a reminder.
    installment = batch.installments.get(due.installment_id)
    if (
        installment is None
        or installment.status != "due"
        or due.user_id in batch.reminded
        or (due.installment_id, due.kind) in batch.sent
    ):
        return 0
    batch.reminded.add(due.user_id)
    batch.sent.add((due.installment_id, due.kind))
    loan = batch.loans[due.loan_id]
    locale = loan.locale
    # The template names the loan (number, term, manager) and this installment; it does not
    # use the loan's totals, which a header read without its installments would get wrong
    # (tests/loans/test_reminder_scan.py renders both ways and compares).
    text = runtime.renderer.render(
        locale,
        "loan_reminder",
        kind=due.kind,
        courtesy=is_courtesy(due.kind),
        days_until=(installment.due_date - today).days,
        days_late=(today - installment.due_date).days,
        installment=installment,
        loan=loan,
        manager_name=loan.manager_name,
    )
    batch.claims.append(due)
    batch.messages.append(
        outbox.Queued(
            chat_id=due.user_id,
            method="sendMessage",
            payload={
                "text": text,
                "parse_mode": "HTML",
                "reply_markup": borrower_buttons(runtime, locale, loan, installment.id),
            },
            dedup_key=f"reminder:{due.installment_id}:{due.kind}",
        )
    )
    return 1


async def _write_batch(conn: Connection, runtime: Runtime, batch: _Batch, today: date) -> int:
    """The batch's reminders_sent rows and outbox rows, in its one transaction.

    A plain INSERT, not ON CONFLICT DO NOTHING: the batch checked `sent` under the write
    lock and its borrowers' locks (`lock_borrowers`), so a conflict would be a bug, and it must fail the batch rather than queue a
    second copy of a reminder.
    """
    if not batch.claims:
        return 0
    now = runtime.clock.now()
    await reminders_store.record_sent(
        conn, [(due.installment_id, due.kind, due.user_id) for due in batch.claims], today, now
    )
    await outbox.enqueue_many(conn, batch.messages, now)
    return len(batch.claims)


# --- staff alerts -------------------------------------------------------------------------


async def send_staff_alerts(runtime: Runtime, today: date) -> int:
    """The manager at manager_alert_days overdue, the admins at admin_alert_days; once each."""
    rows = await reminders_store.unsent_alerts(
        runtime.db, alert_ranges(runtime.policy.reminders, today)
    )
    if not rows:
        return 0
    queued = 0
    async for batch in in_batches(rows, BATCH):
        async with runtime.db.transaction() as conn:
            for row in batch:
                now = runtime.clock.now()
                kind = row["kind"]
                if not await _claim(conn, row["id"], kind, row["user_id"], today, now):
                    continue
                days_late = (today - row["due_date"]).days
                queued += await _queue_alert(
                    conn, runtime, row["loan_id"], row["id"], kind, days_late
                )
    return queued


async def _queue_alert(
    conn: Connection,
    runtime: Runtime,
    loan_id: int,
    installment_id: int,
    kind: str,
    days_late: int,
) -> int:
    loan = await loan_in_conn(conn, loan_id)
    assert loan is not None
    installment = next(i for i in loan.installments if i.id == installment_id)
    if kind.startswith("alert-admin-"):
        recipients = await managers.admin_ids(runtime, conn)
    elif loan.manager_id is not None:
        recipients = [loan.manager_id]
    elif runtime.manager_chat_id is not None:
        recipients = [runtime.manager_chat_id]
    else:
        recipients = await managers.admin_ids(runtime, conn)
    borrower = await borrower_name(conn, loan.user_id)
    queued = 0
    for chat_id in recipients:
        locale = await managers.locale_of_user(conn, chat_id, runtime.default_locale)
        text = runtime.renderer.render(
            locale,
            "loan_overdue_alert",
            admin=kind.startswith("alert-admin-"),
            loan=loan,
            installment=installment,
            days_late=days_late,
            borrower=borrower,
            manager_name=loan.manager_name,
        )
        if await outbox.enqueue(
            conn,
            chat_id=chat_id,
            method="sendMessage",
            payload={"text": text, "parse_mode": "HTML"},
            now=runtime.clock.now(),
            dedup_key=f"{kind}:{installment_id}:{chat_id}",
        ):
            queued += 1
    return queued


# --- a borrower who blocked the bot --------------------------------------------------------


async def borrower_unreachable(runtime: Runtime, chat_id: int) -> bool:
    """The outbox found this chat blocked us: tell the manager of each active loan, once.

    "Once" per blocking: the key carries the moment the user was marked unreachable, which
    talking to the bot again clears (services.people.users.ensure_user).
    """
    unreachable_at = await reminders_store.unreachable_since(runtime.db, chat_id)
    if unreachable_at is None:
        return False
    loan_ids = await reminders_store.active_loan_ids(runtime.db, chat_id)
    if not loan_ids:
        return False
    queued = 0
    async with runtime.db.transaction() as conn:
        borrower = await borrower_name(conn, chat_id)
        for loan_id in loan_ids:
            loan = await loan_in_conn(conn, loan_id)
            assert loan is not None
            target = loan.manager_id or runtime.manager_chat_id
            if target is None:
                continue
            locale = await managers.locale_of_user(conn, target, runtime.default_locale)
            text = runtime.renderer.render(
                locale, "loan_unreachable_alert", loan=loan, borrower=borrower
            )
            if await outbox.enqueue(
                conn,
                chat_id=target,
                method="sendMessage",
                payload={"text": text, "parse_mode": "HTML"},
                now=runtime.clock.now(),
                # The moment as ISO text, as the key always read: once per blocking.
                dedup_key=f"unreachable:{loan.id}:{unreachable_at.isoformat()}",
            ):
                queued += 1
    if queued:
        runtime.wake_outbox()
    return queued > 0


async def set_paused(runtime: Runtime, user_id: int, paused: bool) -> None:
    """`/stop` and `/resume`: courtesy reminders off or on (overdue notices always go)."""
    async with runtime.db.transaction() as conn:
        await reminders_store.set_reminders_paused(conn, user_id, paused, runtime.clock.now())
