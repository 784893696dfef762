"""One reminder per installment when several connections claim it at once (PostgreSQL).

On SQLite one connection writes at a time, so claims never overlap; on PostgreSQL they do,
and the primary key of reminders_sent with ON CONFLICT DO NOTHING must make every claim but
one a no-op, including those that wait on the winner's uncommitted row.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from bot.sandbox.world import SandboxWorld
from services.loans import reminders
from storage.connect import open_database
from storage.loans import book as book_store
from storage.loans import reminders as reminders_store

from .helpers import book, borrower, local, sent_reminders

CLAIMS = 20


async def test_twenty_concurrent_claims_of_one_reminder_have_exactly_one_winner(pg_url):
    async with SandboxWorld.create(pg_url) as world:
        await borrower(world, 1001, "Li")
        loan_id = await book(world, 1001)
        installment_id = (await book_store.installments(world.runtime.db, loan_id))[0]["id"]

    today, at = date(2026, 4, 3), datetime(2026, 4, 3, 1, 0, tzinfo=UTC)
    started = asyncio.Event()

    async def claim(db) -> bool:
        await started.wait()
        async with db.transaction() as conn:
            won = await reminders_store.claim_reminder(conn, installment_id, "due", 1001, today, at)
            # Commit late: the other claims meanwhile meet the winner's uncommitted row.
            await asyncio.sleep(0.05)
        return won

    async with open_database(pg_url) as db:
        tasks = [asyncio.create_task(claim(db)) for _ in range(CLAIMS)]
        await asyncio.sleep(0)
        started.set()
        results = await asyncio.gather(*tasks)
        rows = await db.fetchall(
            "SELECT kind, user_id, sent_on FROM reminders_sent WHERE installment_id = ?",
            (installment_id,),
        )
    assert results.count(True) == 1 and results.count(False) == CLAIMS - 1
    assert [(r["kind"], r["user_id"], r["sent_on"]) for r in rows] == [("due", 1001, today)]


async def test_batches_run_at_once_send_each_borrower_one_reminder_and_fail_none(pg_url):
    """Six reminder runs at once (as six processes' minute ticks would): each borrower, with
    two loans due the same day, gets one reminder, and no run fails on a duplicate key."""
    async with SandboxWorld.create(pg_url) as world:
        people = [await borrower(world, 2000 + i, f"B{i}") for i in range(12)]
        for person in people:
            await book(world, person.id)
            await book(world, person.id)
        world.clock.set(local(date(2026, 3, 31), 9, 30))  # both loans' first is due 3 April
        runtime = world.runtime
        runs = await asyncio.gather(
            *[reminders.send_due_reminders(runtime) for _ in range(6)], return_exceptions=True
        )
        assert [run for run in runs if isinstance(run, BaseException)] == []
        assert sum(runs) == 12
        assert sorted(await sent_reminders(world)) == [(1, "before-3", "2026-03-31")] * 12
        queued = await runtime.db.fetchall(
            "SELECT chat_id FROM outbox WHERE dedup_key LIKE 'reminder:%' ORDER BY chat_id"
        )
        assert [row["chat_id"] for row in queued] == [person.id for person in people]
