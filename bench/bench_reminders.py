"""Reminders at scale: finding one day's due reminders, and sending them within flood limits.

1. A temporary database holding a lender's book as it stands on a morning: 100,000 loans
   of 36 installments (3.6 million rows; 20,000 loans with --quick) paid out over three
   years, due days spread over the month, past installments paid except on ~4% of loans
   in arrears (1-30, 31-90 and 90+ days), some /stop and blocked borrowers, and the
   reminders_sent history of every earlier day (~5 million rows). Timed:
   `services.loans.reminders.find_due` for the day (the scan the minute tick runs) before
   anything was sent today, after a three-day outage (the catch-up scan), and again after
   the day's reminders were queued; queueing the day's reminders and staff alerts.
   EXPLAIN QUERY PLAN must show the covering partial index installments_unpaid_by_due.
2. The real bot on the sandbox with Telegram's flood limits on (30 messages/s overall,
   1/s per chat) and PTB's AIORateLimiter: N borrowers each get their reminder through the
   outbox. Reported: messages per second against the 30/s ceiling, 429s the sandbox
   answered (each retried by the outbox, none raised), and rows not delivered (must be 0).

    python -m bench.bench_reminders [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import build_runtime
from bot.sandbox.core import SandboxCore
from bot.sandbox.world import SandboxWorld, sandbox_settings
from lending.dates import add_months
from lending.policy import load_policy
from lending.schedule import RepaymentMethod
from services.clock import ManualClock
from services.loans import reminders
from services.loans.book import LoanTerms, book_loan
from storage import outbox
from storage.db import Database
from storage.migrations import migrate

TODAY = date(2027, 6, 15)
TZ = ZoneInfo("Asia/Shanghai")
TERM = 36
SCAN_TARGET_SECONDS = 0.2
RATE_CEILING = 30.0
BORROWER_BASE = 100_000
MANAGER_BASE = 7001
MANAGERS = 40


def _morning(day: date) -> datetime:
    return datetime.combine(day, dtime(9, 30), TZ).astimezone(UTC)


def build_book(path: Path, loans: int) -> dict[str, Any]:
    """Fill the database with a lender's book of `loans` 36-month loans, as it stands on the
    morning of TODAY before the day's first scan; returns what was built.

    Realistic in what the scan and the queueing touch: loans disbursed over the past three
    years (some not yet repaying, the oldest repaid and closed), due days spread over the
    month, every past installment paid except on the ~4% of loans in arrears (most 1-30
    days, some 31-90, some beyond 90), a few installments reported paid and waiting for a
    manager, some borrowers who sent /stop or blocked the bot, 40 named managers, and the
    reminders_sent history the daily job would have written on every earlier day (so the
    first scan of TODAY finds TODAY's reminders, not a three-year backlog).
    """
    rules = load_policy().reminders
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    now = datetime.now(UTC).isoformat()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO managers (user_id, display_name, created_at) VALUES (?, ?, ?)",
        ((MANAGER_BASE + m, f"Manager {m}", now) for m in range(MANAGERS)),
    )
    borrowers = []
    for k in range(loans):
        paused = rng.random() < 0.02  # sent /stop
        unreachable = rng.random() < 0.005  # blocked the bot
        borrowers.append(
            (
                BORROWER_BASE + k,
                "zh" if rng.random() < 0.7 else "en",
                1 if paused else 0,
                now if unreachable else None,
                now,
                now,
            )
        )
    conn.executemany(
        "INSERT INTO users (user_id, locale, first_name, reminders_paused, unreachable_at,"
        " created_at, updated_at) VALUES (?, ?, 'B', ?, ?, ?, ?)",
        borrowers,
    )
    courtesy = [(n, "due" if n == 0 else f"before-{n}") for n in rules.before_due_days]
    overdue = [(n, f"overdue-{n}") for n in rules.overdue_days]
    alerts = [(n, f"alert-manager-{n}") for n in rules.manager_alert_days]
    alerts.append((rules.admin_alert_days, f"alert-admin-{rules.admin_alert_days}"))
    loan_rows: list[tuple] = []
    installment_rows: list[tuple] = []
    sent_rows: list[tuple] = []
    in_arrears = history_rows = 0
    installment_id = 0
    for k in range(loans):
        user_id = BORROWER_BASE + k
        paused = borrowers[k][2] == 1
        # Disbursed over the past 36 months; first due date about a month later.
        first = TODAY - timedelta(days=rng.randrange(-25, 1080))
        # ~4% of loans stopped paying at some point: the oldest unpaid installment is the
        # latest one due (60%: 1-30 days late), one or two before (20%: 31-90 days), or
        # three to twelve before (20%: over 90 days, nearly written off).
        past = sum(1 for n in range(TERM) if add_months(first, n) < TODAY)
        missed_from = None
        if past and rng.random() < 0.04:
            bucket = rng.random()
            behind = (
                0 if bucket < 0.6 else rng.randint(1, 2) if bucket < 0.8 else rng.randint(3, 12)
            )
            missed_from = add_months(first, max(0, past - 1 - behind))
        open_past = False
        for n in range(TERM):
            installment_id += 1
            due = add_months(first, n)
            status = "due"
            if due < TODAY and (missed_from is None or due < missed_from):
                status = "paid"
            elif due < TODAY:
                open_past = True
            elif due <= TODAY + timedelta(days=3) and rng.random() < 0.02:
                status = "reported"  # "I've paid" pressed, the manager has not confirmed
            installment_rows.append(
                (
                    installment_id,
                    k + 1,
                    n + 1,
                    due.isoformat(),
                    "3000.00" if status == "paid" else "0",
                    status,
                )
            )
            # What earlier days' scans recorded: the courtesy kinds up to the due date (the
            # borrower paid on it, or not), the overdue notices and staff alerts after it.
            history = [] if paused else [(due - timedelta(days=d), kind) for d, kind in courtesy]
            if status != "paid":
                history += [(due + timedelta(days=d), kind) for d, kind in overdue + alerts]
            sent_rows.extend(
                (installment_id, kind, user_id, day.isoformat(), now)
                for day, kind in history
                if day < TODAY
            )
        in_arrears += open_past
        last_due = add_months(first, TERM - 1)
        loan_rows.append(
            (
                k + 1,
                user_id,
                MANAGER_BASE + rng.randrange(MANAGERS),
                first.isoformat(),
                "closed" if last_due < TODAY and missed_from is None else "active",
                now,
                now,
            )
        )
        if len(sent_rows) > 200_000 or k == loans - 1:
            history_rows += len(sent_rows)
            _flush_book(conn, loan_rows, installment_rows, sent_rows)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return {
        "installments": installment_id,
        "loans_in_arrears_share": round(in_arrears / loans, 4),
        "history_rows": history_rows,
    }


def _flush_book(conn: sqlite3.Connection, loans: list, installments: list, sent: list) -> None:
    """Write the rows built so far, in key order (so every index is appended to), and clear."""
    conn.executemany(
        "INSERT INTO loans (id, user_id, manager_id, principal, annual_rate, term_months,"
        " method, apr, first_due_date, status, disbursed_at, created_at)"
        " VALUES (?, ?, ?, '100000', '4.8', 36, 'annuity', '4.8', ?, ?, ?, ?)",
        loans,
    )
    conn.executemany(
        "INSERT INTO installments (id, loan_id, n, due_date, payment, principal, interest,"
        " balance, paid_amount, status)"
        " VALUES (?, ?, ?, ?, '3000.00', '2700.00', '300.00', '0', ?, ?)",
        installments,
    )
    conn.executemany(
        "INSERT INTO reminders_sent (installment_id, kind, user_id, sent_on, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        sent,
    )
    for rows in (loans, installments, sent):
        rows.clear()


async def measure_scan(loans: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        async with Database(path) as db:
            await migrate(db.conn)
        started = time.perf_counter()
        book = build_book(path, loans)
        build_seconds = time.perf_counter() - started
        runtime = build_runtime(
            sandbox_settings(path), clock=ManualClock(_morning(TODAY)), policy=load_policy()
        )
        rules = runtime.policy.reminders
        async with runtime.db:
            conn = runtime.db.conn
            plan = await _plan(conn, rules)
            await reminders.find_due(conn, rules, TODAY)  # warm the page cache
            cold = []
            for _ in range(repeats):
                started = time.perf_counter()
                found = await reminders.find_due(conn, rules, TODAY)
                cold.append(time.perf_counter() - started)
            # The bot was down for three days: the catch-up scan on its return.
            downtime = []
            for _ in range(repeats):
                started = time.perf_counter()
                caught_up = await reminders.find_due(conn, rules, TODAY + timedelta(days=3))
                downtime.append(time.perf_counter() - started)
            started = time.perf_counter()
            queued = await reminders.send_due_reminders(runtime)
            queue_seconds = time.perf_counter() - started
            warm = []
            for _ in range(repeats):
                started = time.perf_counter()
                left = await reminders.find_due(conn, rules, TODAY)
                warm.append(time.perf_counter() - started)
    scan = median(cold)
    return {
        "loans": loans,
        **book,
        "build_seconds": round(build_seconds, 1),
        "due_found": len(found),
        "scan_seconds": round(scan, 4),
        "scan_target_seconds": SCAN_TARGET_SECONDS,
        "scan_target_met": scan < SCAN_TARGET_SECONDS,
        "scan_after_sending_seconds": round(median(warm), 4),
        "due_found_after_3_days_down": len(caught_up),
        "scan_after_3_days_down_seconds": round(median(downtime), 4),
        "left_after_sending": len(left),
        "queued": queued,
        "queue_seconds": round(queue_seconds, 2),
        "queued_per_second": round(queued / queue_seconds) if queue_seconds else 0,
        "uses_partial_index": any(
            name in plan for name in ("installments_unpaid_by_due", "installments_open_by_due")
        ),
        # Migration 0008: the scan reads the index alone, never an installment row.
        "uses_covering_index": "COVERING INDEX installments_unpaid_by_due" in plan,
        "query_plan": plan,
    }


class _FirstQuery:
    """A connection that remembers the first statement read through it (the scan's)."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.first: tuple[str, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    async def fetchall(self, sql, params=()):
        if self.first is None:
            self.first = (sql, params)
        return await self.conn.fetchall(sql, params)


async def _plan(conn, rules) -> str:
    """EXPLAIN QUERY PLAN of the scan, each distinct step once."""
    capture = _FirstQuery(conn)
    await reminders.find_due(capture, rules, TODAY)
    assert capture.first is not None
    sql, params = capture.first
    rows = await conn.fetchall("EXPLAIN QUERY PLAN " + sql, params)
    steps = [re.sub(r"SUBQUERY \d+", "SUBQUERY", row["detail"]) for row in rows]
    # One UNION ALL part per reminder kind, each with the same plan: show each step once.
    parts = steps.count("UNION ALL") + 1
    return f"{parts} ranges, each: " + " | ".join(
        step
        for step in dict.fromkeys(steps)
        if step not in ("UNION ALL", "COMPOUND QUERY", "LEFT-MOST SUBQUERY")
    )


async def measure_sending(messages: int) -> dict[str, Any]:
    """N borrowers, one reminder each, through the outbox and AIORateLimiter, flood limits on."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "send.sqlite3"
        morning = _morning(TODAY)
        core = SandboxCore(clock=ManualClock(morning))
        flood = core.faults.flood_limits(overall_per_second=RATE_CEILING, time_source="monotonic")
        # The limiter `python -m bot run` uses (bot/app.py): 30/s overall, 3 retries on 429.
        world = SandboxWorld.create(path, core=core, rate_limiter="default")
        async with world:
            runtime = world.runtime
            terms = LoanTerms(
                principal=Decimal(100000),
                annual_rate=Decimal("4.8"),
                term_months=12,
                method=RepaymentMethod.ANNUITY,
                first_due_date=TODAY + timedelta(days=3),
            )
            async with runtime.db.transaction() as conn:
                now = runtime.clock.now()
                for k in range(messages):
                    user_id = 300_000 + k
                    core.user(user_id, f"B{k}", started=True)
                    await conn.execute(
                        "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
                        " VALUES (?, 'en', 'B', ?, ?)",
                        (user_id, now.isoformat(), now.isoformat()),
                    )
                    await book_loan(
                        conn,
                        user_id=user_id,
                        lead_id=None,
                        manager_id=None,
                        terms=terms,
                        disbursed_at=now,
                        disbursed_on=TODAY - timedelta(days=20),
                    )
            queued = await reminders.send_due_reminders(runtime)
            sender = world.app.outbox
            origin = time.monotonic()

            async def follow_real_time() -> None:
                # The outbox schedules 429 retries on the runtime clock: let it run in step
                # with the wall clock, as in production.
                while True:
                    world.clock.set(morning + timedelta(seconds=time.monotonic() - origin))
                    await asyncio.sleep(0.01)

            ticker = asyncio.create_task(follow_real_time())
            started = time.perf_counter()
            sender.start(poll_interval=0.02)
            deadline = started + max(60.0, messages / RATE_CEILING * 4)
            # Polling the table is the measurement: "done" means every row left 'pending'.
            while await outbox.pending_count(runtime.db.conn) and time.perf_counter() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            elapsed = time.perf_counter() - started
            await sender.stop()
            ticker.cancel()
            statuses = {
                row[0]: row[1]
                for row in await runtime.db.fetchall(
                    "SELECT status, COUNT(*) FROM outbox GROUP BY status"
                )
            }
            received = sum(1 for k in range(messages) if core.chat_messages(300_000 + k))
    rate = messages / elapsed
    return {
        "messages": messages,
        "queued": queued,
        "seconds": round(elapsed, 2),
        "per_second": round(rate, 1),
        "ceiling_per_second": RATE_CEILING,
        "share_of_ceiling": round(rate / RATE_CEILING, 3),
        "target_met": rate >= 0.9 * RATE_CEILING and received == messages,
        "answered_429": core.faults.injected["429"],
        "delivered": received,
        "lost": messages - received,
        "not_sent_rows": sum(v for k, v in statuses.items() if k != "sent"),
        "flood_overall_per_second": flood.overall_per_second,
    }


def run(quick: bool = False) -> dict[str, Any]:
    scan = asyncio.run(measure_scan(20_000 if quick else 100_000, 3 if quick else 5))
    send = asyncio.run(measure_sending(300 if quick else 900))
    return {**scan, **{f"send_{k}": v for k, v in send.items()}}


if __name__ == "__main__":
    result = run(quick="--quick" in sys.argv)
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")
