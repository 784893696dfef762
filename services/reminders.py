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
from dataclasses import dataclass
from datetime import date, timedelta

import aiosqlite

from lending.policy import Reminders
from services import managers
from services.loans import borrower_buttons, borrower_name, loan_in_conn
from services.runtime import Runtime
from storage import outbox

log = logging.getLogger(__name__)

# Overdue notices stop this many days after the last configured one (collections take
# over); it also bounds the scan, so a book full of old defaults stays fast.
LOOKBACK_BEYOND_LAST = 60
# Reminders written per transaction: small enough not to hold the write lock for long.
BATCH = 200
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


def _kind_case(rules: Reminders, today: date) -> tuple[str, list[str]]:
    """A SQL CASE giving each installment's current kind from its due date (see module doc).

    Comparing ISO date strings is comparing dates, so the partial index on due_date serves
    the range and the CASE costs nothing per row beyond a few string comparisons.
    """
    branches: list[str] = []
    params: list[str] = []
    for n in sorted(rules.before_due_days):
        # due_date <= today + n (and above the previous threshold, by CASE order)
        branches.append("WHEN i.due_date <= ? THEN ?")
        params += [(today + timedelta(days=n)).isoformat(), "due" if n == 0 else f"before-{n}"]
    overdue = sorted(rules.overdue_days, reverse=True)
    head = "CASE WHEN i.due_date >= ? THEN (CASE " + " ".join(branches) + " END)"
    head_params = [today.isoformat(), *params]
    late: list[str] = []
    late_params: list[str] = []
    for n in overdue:
        late.append("WHEN i.due_date <= ? THEN ?")
        late_params += [(today - timedelta(days=n)).isoformat(), f"overdue-{n}"]
    return head + " " + " ".join(late) + " END", head_params + late_params


@dataclass(frozen=True)
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


async def find_due(conn: aiosqlite.Connection, rules: Reminders, today: date) -> list[Due]:
    """Borrower reminders whose time has come on `today` and that were never sent.

    This is the benchmarked query: the range on due_date uses the partial index
    installments_open_by_due (unpaid installments only), and the NOT EXISTS probes the
    reminders_sent primary key.
    """
    case, case_params = _kind_case(rules, today)
    high = today + timedelta(days=max(rules.before_due_days, default=0))
    low = today - timedelta(days=lookback_days(rules))
    sql = (
        "SELECT c.* FROM (SELECT i.id, i.loan_id, i.due_date, i.status, l.user_id,"
        f" {case} AS kind,"
        " COALESCE(u.reminders_paused, 0) AS paused, u.unreachable_at"
        " FROM installments i JOIN loans l ON l.id = i.loan_id"
        " LEFT JOIN users u ON u.user_id = l.user_id"
        " WHERE i.status != 'paid' AND i.due_date BETWEEN ? AND ? AND l.status = 'active') c"
        " WHERE c.kind IS NOT NULL AND NOT EXISTS"
        " (SELECT 1 FROM reminders_sent r WHERE r.installment_id = c.id AND r.kind = c.kind)"
    )
    params = [*case_params, low.isoformat(), high.isoformat()]
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    return [
        Due(
            installment_id=row["id"],
            loan_id=row["loan_id"],
            user_id=row["user_id"],
            kind=row["kind"],
            due_date=date.fromisoformat(row["due_date"]),
            status=row["status"],
            paused=bool(row["paused"]),
            unreachable=row["unreachable_at"] is not None,
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
        if due.user_id in already_today:
            continue
        current = best.get(due.user_id)
        if current is None or urgency(due.kind) < urgency(current.kind):
            best[due.user_id] = due
    return sorted(best.values(), key=lambda d: (d.user_id, d.installment_id))


async def reminded_today(conn: aiosqlite.Connection, today: date, user_ids: set[int]) -> set[int]:
    """Borrowers who already had a reminder on this local day (staff alerts do not count)."""
    if not user_ids:
        return set()
    async with conn.execute(
        "SELECT DISTINCT user_id FROM reminders_sent WHERE sent_on = ? AND kind NOT LIKE 'alert-%'",
        (today.isoformat(),),
    ) as cursor:
        rows = await cursor.fetchall()
    return {row[0] for row in rows} & user_ids


async def send_due_reminders(runtime: Runtime) -> int:
    """Scheduled work (bot/jobs.py DUE_WORK): queue today's reminders and staff alerts."""
    if not in_window(runtime):
        return 0
    rules = runtime.policy.reminders
    today = runtime.local_now().date()
    candidates = await find_due(runtime.db.conn, rules, today)
    already = await reminded_today(runtime.db.conn, today, {c.user_id for c in candidates})
    chosen = choose(candidates, already)
    queued = 0
    for start in range(0, len(chosen), BATCH):
        async with runtime.db.transaction() as conn:
            for due in chosen[start : start + BATCH]:
                queued += await _send_one(conn, runtime, due, today)
    queued += await send_staff_alerts(runtime, today)
    if queued:
        runtime.wake_outbox()
    return queued


async def _claim(
    conn: aiosqlite.Connection, installment_id: int, kind: str, user_id: int, today: date, now: str
) -> bool:
    """Record (installment, kind) as sent; False when it already was (the exactly-once gate)."""
    cursor = await conn.execute(
        "INSERT INTO reminders_sent (installment_id, kind, user_id, sent_on, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (installment_id, kind, user_id, today.isoformat(), now),
    )
    return cursor.rowcount == 1


async def _send_one(conn: aiosqlite.Connection, runtime: Runtime, due: Due, today: date) -> int:
    now = runtime.clock.now()
    # Re-checked inside the write transaction: a second process (or a payment confirmed
    # since the scan) must not produce a reminder.
    async with conn.execute(
        "SELECT status FROM installments WHERE id = ?", (due.installment_id,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None or row["status"] != "due":
        return 0
    async with conn.execute(
        "SELECT 1 FROM reminders_sent WHERE user_id = ? AND sent_on = ?"
        " AND kind NOT LIKE 'alert-%' LIMIT 1",
        (due.user_id, today.isoformat()),
    ) as cursor:
        if await cursor.fetchone() is not None:
            return 0
    if not await _claim(conn, due.installment_id, due.kind, due.user_id, today, now.isoformat()):
        return 0
    loan = await loan_in_conn(conn, due.loan_id)
    assert loan is not None
    installment = next(i for i in loan.installments if i.id == due.installment_id)
    locale = loan.locale
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
    await outbox.enqueue(
        conn,
        chat_id=due.user_id,
        method="sendMessage",
        payload={
            "text": text,
            "parse_mode": "HTML",
            "reply_markup": borrower_buttons(runtime, locale, loan, installment.id),
        },
        now=now,
        dedup_key=f"reminder:{due.installment_id}:{due.kind}",
    )
    return 1


# --- staff alerts -------------------------------------------------------------------------


async def send_staff_alerts(runtime: Runtime, today: date) -> int:
    """The manager at manager_alert_days overdue, the admins at admin_alert_days; once each."""
    rules = runtime.policy.reminders
    first = min([*rules.manager_alert_days, rules.admin_alert_days])
    low = today - timedelta(days=lookback_days(rules))
    high = today - timedelta(days=first)
    rows = await runtime.db.fetchall(
        "SELECT i.id, i.loan_id, i.due_date, l.user_id FROM installments i"
        " JOIN loans l ON l.id = i.loan_id AND l.status = 'active'"
        " WHERE i.status != 'paid' AND i.due_date BETWEEN ? AND ?",
        (low.isoformat(), high.isoformat()),
    )
    queued = 0
    pending = []
    for row in rows:
        days_late = (today - date.fromisoformat(row["due_date"])).days
        for kind in alert_for(days_late, rules):
            pending.append((row, kind, days_late))
    if not pending:
        return 0
    async with runtime.db.transaction() as conn:
        for row, kind, days_late in pending:
            now = runtime.clock.now()
            if not await _claim(conn, row["id"], kind, row["user_id"], today, now.isoformat()):
                continue
            queued += await _queue_alert(conn, runtime, row["loan_id"], row["id"], kind, days_late)
    return queued


async def _queue_alert(
    conn: aiosqlite.Connection,
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
    talking to the bot again clears (services.users.ensure_user).
    """
    row = await runtime.db.fetchone(
        "SELECT unreachable_at FROM users WHERE user_id = ?", (chat_id,)
    )
    if row is None or row["unreachable_at"] is None:
        return False
    loans = await runtime.db.fetchall(
        "SELECT id FROM loans WHERE user_id = ? AND status = 'active'", (chat_id,)
    )
    if not loans:
        return False
    queued = 0
    async with runtime.db.transaction() as conn:
        borrower = await borrower_name(conn, chat_id)
        for loan_row in loans:
            loan = await loan_in_conn(conn, loan_row["id"])
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
                dedup_key=f"unreachable:{loan.id}:{row['unreachable_at']}",
            ):
                queued += 1
    if queued:
        runtime.wake_outbox()
    return queued > 0


async def set_paused(runtime: Runtime, user_id: int, paused: bool) -> None:
    """`/stop` and `/resume`: courtesy reminders off or on (overdue notices always go)."""
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "UPDATE users SET reminders_paused = ?, updated_at = ? WHERE user_id = ?",
            (1 if paused else 0, runtime.clock.now().isoformat(), user_id),
        )
