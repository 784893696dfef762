"""Reminders at scale: finding one day's due reminders, and sending them within flood limits.

1. A temporary database with 100,000 loans of 36 installments (3.6 million rows; 20,000
   loans with --quick), spread over three years of payouts: past installments paid except
   for ~3% of loans running late. Timed: `services.reminders.find_due` for one day (the
   scan the minute tick runs), first thing in the morning when nothing was sent yet and
   again after the day's reminders were queued. EXPLAIN QUERY PLAN must show the partial
   index installments_open_by_due; also timed, queueing that day's reminders.
2. The real bot on the sandbox with Telegram's flood limits on (30 messages/s overall,
   1/s per chat) and PTB's AIORateLimiter: N borrowers each get their reminder through the
   outbox. Reported: messages per second against the 30/s ceiling, 429s the sandbox
   answered (each retried by the outbox, none raised), and rows not delivered (must be 0).

    python -m bench.bench_reminders [--quick] [--json]
"""

from __future__ import annotations

import asyncio
import json
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
from services import reminders
from services.clock import ManualClock
from services.loans import LoanTerms, book_loan
from storage import outbox
from storage.db import Database
from storage.migrations import migrate

TODAY = date(2027, 6, 15)
TZ = ZoneInfo("Asia/Shanghai")
TERM = 36
SCAN_TARGET_SECONDS = 0.2
RATE_CEILING = 30.0


def _morning(day: date) -> datetime:
    return datetime.combine(day, dtime(9, 30), TZ).astimezone(UTC)


def build_book(path: Path, loans: int) -> int:
    """Fill the database with `loans` loans of 36 installments; returns installment rows."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    now = datetime.now(UTC).isoformat()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
        " VALUES (?, 'en', 'B', ?, ?)",
        ((100_000 + k, now, now) for k in range(loans)),
    )
    conn.executemany(
        "INSERT INTO loans (id, user_id, manager_id, principal, annual_rate, term_months,"
        " method, apr, first_due_date, disbursed_at, created_at)"
        " VALUES (?, ?, 7001, '100000', '4.8', 36, 'annuity', '4.8', ?, ?, ?)",
        ((k + 1, 100_000 + k, _first_due(k).isoformat(), now, now) for k in range(loans)),
    )
    today = TODAY.isoformat()
    late_from = (TODAY - timedelta(days=45)).isoformat()

    def installments():
        for k in range(loans):
            first = _first_due(k)
            late = k % 33 == 0  # ~3% of loans stopped paying about a month and a half ago
            for n in range(TERM):
                due = add_months(first, n).isoformat()
                paid = due < today and not (late and due >= late_from)
                yield (
                    k + 1,
                    n + 1,
                    due,
                    "3000.00",
                    "2700.00",
                    "300.00",
                    "0",
                    "3000.00" if paid else "0",
                    "paid" if paid else "due",
                )

    conn.executemany(
        "INSERT INTO installments (loan_id, n, due_date, payment, principal, interest, balance,"
        " paid_amount, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        installments(),
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return loans * TERM


def _first_due(k: int) -> date:
    # Payouts spread over ~3 years before TODAY, due days spread over the month.
    return TODAY - timedelta(days=1080) + timedelta(days=k % 1100)


async def measure_scan(loans: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        async with Database(path) as db:
            await migrate(db.conn)
        started = time.perf_counter()
        rows = build_book(path, loans)
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
        "installments": rows,
        "build_seconds": round(build_seconds, 1),
        "due_found": len(found),
        "scan_seconds": round(scan, 4),
        "scan_target_seconds": SCAN_TARGET_SECONDS,
        "scan_target_met": scan < SCAN_TARGET_SECONDS,
        "scan_after_sending_seconds": round(median(warm), 4),
        "left_after_sending": len(left),
        "queued": queued,
        "queue_seconds": round(queue_seconds, 2),
        "uses_partial_index": "installments_open_by_due" in plan,
        "query_plan": plan,
    }


async def _plan(conn, rules) -> str:
    """EXPLAIN QUERY PLAN of the scan, one line per step."""
    original = conn.execute
    captured: dict[str, Any] = {}

    def capture(sql, params=()):
        captured.setdefault("sql", sql)
        captured.setdefault("params", params)
        return original(sql, params)

    conn.execute = capture  # type: ignore[method-assign]
    try:
        await reminders.find_due(conn, rules, TODAY)
    finally:
        conn.execute = original  # type: ignore[method-assign]
    async with conn.execute("EXPLAIN QUERY PLAN " + captured["sql"], captured["params"]) as cur:
        return " | ".join(row[3] for row in await cur.fetchall())


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
