"""What the health endpoint and the metrics read from the database at scrape time: a
trivial probe, the outbox's backlog, leads by status, reminders sent on a day.

Each is one small aggregate in SQL both databases accept (timestamps are compared as the
ISO text SQLite stores and PostgreSQL casts, as storage/outbox.py does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storage.db import Connection
from storage.leads import STATUSES
from storage.values import instant


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int  # rows not yet sent, due now or later
    failed: int  # rows the sender gave up on
    oldest_due_at: datetime | None  # the earliest next attempt among the rows due now


async def probe(conn: Connection) -> None:
    """A statement that touches no table: the database answers, or this raises."""
    await conn.fetchval("SELECT 1")


async def outbox_backlog(conn: Connection, now: datetime) -> OutboxBacklog:
    row = await conn.fetchone(
        "SELECT COUNT(*) FILTER (WHERE status = 'pending') AS pending,"
        " COUNT(*) FILTER (WHERE status = 'failed') AS failed"
        " FROM outbox WHERE status IN ('pending', 'failed')"
    )
    assert row is not None  # an aggregate without GROUP BY always has its row
    return OutboxBacklog(
        pending=int(row["pending"]),
        failed=int(row["failed"]),
        oldest_due_at=await oldest_due_at(conn, now),
    )


async def oldest_due_at(conn: Connection, now: datetime) -> datetime | None:
    """When the longest-waiting pending row fell due (its next attempt, which a retry puts
    off), among the rows due by `now`; None when none is due."""
    return instant(
        await conn.fetchval(
            "SELECT MIN(next_attempt_at) AS due FROM outbox"
            " WHERE status = 'pending' AND next_attempt_at <= ?",
            (now.isoformat(),),
        )
    )


async def leads_by_status(conn: Connection) -> dict[str, int]:
    """How many leads are in each status, every status included: one that empties reads
    0 instead of vanishing from the metrics."""
    rows = await conn.fetchall("SELECT status, COUNT(*) AS n FROM leads GROUP BY status")
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({row["status"]: int(row["n"]) for row in rows})
    return counts


async def reminders_sent_on(conn: Connection, day: date) -> dict[str, int]:
    """How many reminders and staff alerts of each kind were recorded as sent on `day`
    (the company's local date, as services/loans/reminders.py writes `sent_on`)."""
    rows = await conn.fetchall(
        "SELECT kind, COUNT(*) AS n FROM reminders_sent WHERE sent_on = ? GROUP BY kind",
        (day.isoformat(),),
    )
    return {row["kind"]: int(row["n"]) for row in rows}
