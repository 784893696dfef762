"""One reminder per installment when several connections claim it at once (PostgreSQL).

On SQLite one connection writes at a time, so claims never overlap; on PostgreSQL they do,
and the primary key of reminders_sent with ON CONFLICT DO NOTHING must make every claim but
one a no-op, including those that wait on the winner's uncommitted row.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from bot.sandbox.world import SandboxWorld
from storage.connect import open_database
from storage.loans import book as book_store
from storage.loans import reminders as reminders_store

from .helpers import book, borrower

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
