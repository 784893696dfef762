"""The applications table and what reads it with them: drafts (saved, nudged, abandoned),
submitted applications and their assessments, the buyer's own lead and papers as /status
and the result screens see them, and the period's applications the policy what-if
re-assesses. Timestamps are passed as datetimes and stored as ISO text here; what is read
comes back as the project's types (storage/values.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from storage.connect import is_postgres_url
from storage.db import Connection, Database, Row
from storage.values import converted, from_json, instant, money, to_json

if TYPE_CHECKING:
    from storage.postgres import PgConnection

# -- drafts ----------------------------------------------------------------------------


async def update_open_draft(
    db: Database, user_id: int, *, answers: dict[str, Any], locale: str, step: str, at: datetime
) -> int | None:
    """Save the answers into the user's open draft: its id, or None when there is none.

    One statement committed by itself, so every answer but the first is one trip to the
    database thread instead of BEGIN, SELECT, UPDATE, COMMIT."""
    updated = await db.write_returning(
        "UPDATE applications SET answers = ?, locale = ?, updated_at = ?, step = ?"
        " WHERE id = (SELECT id FROM applications WHERE user_id = ? AND status = 'draft'"
        " ORDER BY id DESC LIMIT 1) RETURNING id",
        (to_json(answers), locale, at.isoformat(), step, user_id),
    )
    return int(updated[0]["id"]) if updated else None


async def open_draft_id(conn: Connection, user_id: int) -> int | None:
    row = await conn.fetchone(
        "SELECT id FROM applications WHERE user_id = ? AND status = 'draft' ORDER BY id DESC"
        " LIMIT 1",
        (user_id,),
    )
    return int(row["id"]) if row is not None else None


async def insert_draft(
    conn: Connection, user_id: int, *, answers: dict[str, Any], locale: str, step: str, at: datetime
) -> int:
    moment = at.isoformat()
    return int(
        await conn.fetchval(
            "INSERT INTO applications (user_id, status, answers, locale, created_at,"
            " updated_at, step) VALUES (?, 'draft', ?, ?, ?, ?, ?) RETURNING id",
            (user_id, to_json(answers), locale, moment, moment, step),
        )
    )


async def update_draft(
    conn: Connection,
    draft_id: int,
    *,
    answers: dict[str, Any],
    locale: str,
    step: str,
    at: datetime,
) -> None:
    await conn.execute(
        "UPDATE applications SET answers = ?, locale = ?, updated_at = ?, step = ? WHERE id = ?",
        (to_json(answers), locale, at.isoformat(), step, draft_id),
    )


async def abandon_drafts(conn: Connection, user_id: int, at: datetime) -> bool:
    """Mark the user's open drafts abandoned; whether there was one."""
    changed = await conn.execute(
        "UPDATE applications SET status = 'abandoned', updated_at = ?"
        " WHERE user_id = ? AND status = 'draft'",
        (at.isoformat(), user_id),
    )
    return changed > 0


async def drafts_to_nudge(db: Database, *, cutoff: datetime, limit: int) -> list[Row]:
    """Open drafts last answered by `cutoff` and never nudged, of reachable users who gave
    consent, oldest first: rows of id, user_id, step, locale (the user's)."""
    return await db.fetchall(
        "SELECT a.id, a.user_id, a.step, u.locale FROM applications a"
        " JOIN users u ON u.user_id = a.user_id"
        " WHERE a.status = 'draft' AND a.nudged_at IS NULL AND a.updated_at <= ?"
        " AND u.unreachable_at IS NULL AND u.consent_status = 'given'"
        " ORDER BY a.updated_at LIMIT ?",
        (cutoff.isoformat(), limit),
    )


async def mark_nudged(conn: Connection, draft_id: int, *, at: datetime, cutoff: datetime) -> bool:
    """Mark the draft nudged; False when it is no longer an un-nudged draft last answered by
    `cutoff` (the prospect answered or finished meanwhile)."""
    changed = await conn.execute(
        "UPDATE applications SET nudged_at = ? WHERE id = ? AND status = 'draft'"
        " AND nudged_at IS NULL AND updated_at <= ?",
        (at.isoformat(), draft_id, cutoff.isoformat()),
    )
    return changed == 1


# -- submissions -----------------------------------------------------------------------
# A submission's `answers` is the JSON text the Answers model writes itself, stored as it
# is: `same_application` finds a repeat by that exact text.


async def insert_submitted(
    conn: Connection,
    user_id: int,
    *,
    answers: str,
    full_name: str,
    phone: str,
    locale: str,
    at: datetime,
    based_on: int | None,
) -> int:
    moment = at.isoformat()
    return int(
        await conn.fetchval(
            "INSERT INTO applications (user_id, status, answers, full_name, phone, locale,"
            " created_at, submitted_at, updated_at, based_on)"
            " VALUES (?, 'submitted', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (user_id, answers, full_name, phone, locale, moment, moment, moment, based_on),
        )
    )


async def submit_draft(
    conn: Connection,
    draft_id: int,
    *,
    answers: str,
    full_name: str,
    phone: str,
    locale: str,
    at: datetime,
) -> None:
    """The open draft becomes the submitted application."""
    moment = at.isoformat()
    await conn.execute(
        "UPDATE applications SET status = 'submitted', answers = ?, full_name = ?,"
        " phone = ?, locale = ?, submitted_at = ?, updated_at = ?, step = NULL"
        " WHERE id = ?",
        (answers, full_name, phone, locale, moment, moment, draft_id),
    )


async def insert_assessment(
    conn: Connection, application_id: int, record: dict[str, Any], at: datetime
) -> None:
    """Store an assessment record (services' `assessment_record`): its headline figures as
    columns, the whole record as JSON."""
    await conn.execute(
        "INSERT INTO assessments (application_id, decision, tier, score, loan_amount,"
        " monthly_payment, annual_rate, apr, result, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            application_id,
            record["decision"],
            record["tier"],
            record["score"],
            record["loan_amount"],
            record["monthly_payment"],
            record["annual_rate"],
            record.get("apr") or "0",
            to_json(record),
            at.isoformat(),
        ),
    )


async def same_application(
    conn: Connection,
    user_id: int,
    *,
    answers: str,
    full_name: str,
    phone: str,
    since: datetime,
) -> tuple[int, int | None] | None:
    """(application id, its lead's id or None) of the user's newest application submitted
    since `since` with exactly these answers, name and phone; None when there is none."""
    row = await conn.fetchone(
        "SELECT a.id, (SELECT l.id FROM leads l WHERE l.application_id = a.id) AS lead_id"
        " FROM applications a WHERE a.user_id = ? AND a.status = 'submitted'"
        " AND a.submitted_at >= ? AND a.answers = ? AND a.full_name = ? AND a.phone = ?"
        " ORDER BY a.id DESC LIMIT 1",
        (user_id, since.isoformat(), answers, full_name, phone),
    )
    return None if row is None else (int(row["id"]), row["lead_id"])


async def submitted_since(conn: Connection, user_id: int, since: datetime) -> int:
    count = await conn.fetchval(
        "SELECT COUNT(*) AS n FROM applications WHERE user_id = ? AND status = 'submitted'"
        " AND submitted_at >= ?",
        (user_id, since.isoformat()),
    )
    return int(count)


async def latest_submitted_id(db: Database, user_id: int) -> int | None:
    value = await db.fetchval(
        "SELECT id FROM applications WHERE user_id = ? AND status = 'submitted'"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )
    return None if value is None else int(value)


async def submitted_based_on(db: Database, application_id: int) -> int | None:
    """The submitted application made from a counter-offer to `application_id`, if any."""
    value = await db.fetchval(
        "SELECT id FROM applications WHERE based_on = ? AND status = 'submitted'",
        (application_id,),
    )
    return None if value is None else int(value)


async def application(db: Database, application_id: int) -> dict[str, Any] | None:
    """Keys id, user_id, status, answers (a dict), full_name, phone, locale, based_on."""
    row = await db.fetchone(
        "SELECT id, user_id, status, answers, full_name, phone, locale, based_on"
        " FROM applications WHERE id = ?",
        (application_id,),
    )
    return None if row is None else converted(row, json=("answers",))


async def last_abandoned_at(db: Database, user_id: int) -> datetime | None:
    """When the user's newest abandoned application was set aside, if any."""
    value = await db.fetchval(
        "SELECT updated_at FROM applications WHERE user_id = ? AND status = 'abandoned'"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )
    return instant(value)


async def latest_standing(db: Database, user_id: int) -> dict[str, Any] | None:
    """The user's newest submitted application with its assessment and its lead, if any:
    keys id, submitted_at (datetime), decision, monthly_payment and loan_amount (Decimal),
    lead_id, lead_status, human_requested (the last three None without a lead)."""
    row = await db.fetchone(
        "SELECT a.id, a.submitted_at, s.decision, s.monthly_payment, s.loan_amount,"
        " l.id AS lead_id, l.status AS lead_status, l.human_requested"
        " FROM applications a JOIN assessments s ON s.application_id = a.id"
        " LEFT JOIN leads l ON l.application_id = a.id"
        " WHERE a.user_id = ? AND a.status = 'submitted' ORDER BY a.id DESC LIMIT 1",
        (user_id,),
    )
    if row is None:
        return None
    return converted(row, instants=("submitted_at",), money=("monthly_payment", "loan_amount"))


# -- the policy what-if ----------------------------------------------------------------


@asynccontextmanager
async def read_only(database: str) -> AsyncIterator[Connection | PgConnection]:
    """A connection that cannot write, even by mistake, for the CLI's what-if. `database`
    is a read-only SQLite URI (mode=ro; query_only on top) or a PostgreSQL URL (one
    READ ONLY transaction, which also reads the whole period from one snapshot)."""
    if is_postgres_url(database):
        from storage.postgres import PostgresDatabase

        async with (
            PostgresDatabase(database, min_size=1, max_size=1) as db,
            db.transaction() as conn,
        ):
            await conn.execute("SET TRANSACTION READ ONLY")
            yield conn
        return
    async with aiosqlite.connect(database, uri=True) as raw:
        raw.row_factory = sqlite3.Row
        conn = Connection(raw)
        await conn.execute("PRAGMA query_only = ON")
        yield conn


async def submitted_with_assessments(conn: Connection, since: datetime) -> list[dict[str, Any]]:
    """Applications submitted since `since`, by id, each with its latest assessment and its
    source (the lead's, else the user's, else 'direct'): keys id, answers (parsed JSON),
    submitted_at (datetime), decision, tier, monthly_payment (Decimal), source. A stored
    value that cannot be read is None (the what-if counts such a row out). Reads only."""
    rows = await conn.fetchall(
        "SELECT a.id, a.answers, a.submitted_at, s.decision, s.tier, s.monthly_payment,"
        " COALESCE(l.first_source, u.first_source, 'direct') AS source"
        " FROM applications a"
        " JOIN assessments s ON s.id = (SELECT MAX(id) FROM assessments"
        "                               WHERE application_id = a.id)"
        " LEFT JOIN leads l ON l.application_id = a.id"
        " LEFT JOIN users u ON u.user_id = a.user_id"
        " WHERE a.status = 'submitted' AND a.submitted_at >= ? ORDER BY a.id",
        (since.isoformat(),),
    )
    return [_readable(row) for row in rows]


_READ_AS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("answers", from_json),
    ("submitted_at", instant),
    ("monthly_payment", money),
)


def _readable(row: Row) -> dict[str, Any]:
    # Unlike `converted`, one damaged value spoils only its own row: the what-if reads a
    # whole period and reports what it could not read instead of failing.
    values = converted(row)
    for name, convert in _READ_AS:
        try:
            values[name] = convert(values[name])
        except (ValueError, TypeError, ArithmeticError):
            values[name] = None
    return values
