"""The leads table for the queue: opening a lead, claiming and assigning it, finding a
buyer's open lead, the managers' lists, and a lead's history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.db import Connection, Database, Row
from storage.values import converted

# Keys of the transaction-scoped advisory locks below: constants no other lock of ours uses
# (migrations hold 0x0A7010A4). Held until the caller's transaction ends; on SQLite the
# functions do nothing, since one connection writes at a time there already.
_ASSIGNMENT_LOCK = 0x0A7010B1
_BUYER_LOCKS = 0x0A7010B2  # the first of the two keys; the buyer's id hashed is the second


async def lock_assignment(conn: Connection) -> None:
    """Round robin reads who got the last lead, then gives the next one: two leads opened at
    once must not both read the same "last". Take this before that read; one assignment at
    a time until the caller's transaction commits."""
    if conn.dialect == "postgresql":
        await conn.execute(f"SELECT pg_advisory_xact_lock({_ASSIGNMENT_LOCK})")


async def lock_buyer(conn: Connection, user_id: int) -> None:
    """One "find the buyer's open lead, else open one" at a time per buyer (two presses of
    "Talk to a manager" at once must not open two leads). Another buyer's never waits,
    barring a collision of the hashed id, which only makes them wait."""
    if conn.dialect == "postgresql":
        await conn.execute(
            f"SELECT pg_advisory_xact_lock({_BUYER_LOCKS}, hashint8(CAST(? AS BIGINT)))",
            (user_id,),
        )


async def latest_verdict(conn: Connection, application_id: int) -> Row | None:
    """The decision and tier of the application's latest assessment, or None."""
    return await conn.fetchone(
        "SELECT decision, tier FROM assessments WHERE application_id = ? ORDER BY id DESC LIMIT 1",
        (application_id,),
    )


async def insert_lead(
    conn: Connection,
    *,
    application_id: int | None,
    user_id: int,
    decision: str | None,
    tier: str | None,
    human_requested: bool,
    at: datetime,
) -> int:
    """A new lead, status 'new'; its id."""
    stamp = at.isoformat()
    return int(
        await conn.fetchval(
            "INSERT INTO leads (application_id, user_id, status, decision, tier, human_requested,"
            " created_at, updated_at) VALUES (?, ?, 'new', ?, ?, ?, ?, ?) RETURNING id",
            (application_id, user_id, decision, tier, 1 if human_requested else 0, stamp, stamp),
        )
    )


async def mark_assigned(conn: Connection, lead_id: int, owner_id: int, at: datetime) -> None:
    """A lead just opened goes straight to `owner_id` (round robin)."""
    await conn.execute(
        "UPDATE leads SET status = 'claimed', owner_id = ?, claimed_at = ? WHERE id = ?",
        (owner_id, at.isoformat(), lead_id),
    )


async def mark_claimed(conn: Connection, lead_id: int, owner_id: int, at: datetime) -> bool:
    """Claim the lead if it is still 'new' and unowned; True for the one claimer who won.

    The single conditional UPDATE is the whole race, no lock needed: SQLite runs it
    atomically; on PostgreSQL a second claimer's UPDATE waits for the first one's row lock,
    then checks its WHERE again against the committed row, and changes nothing."""
    stamp = at.isoformat()
    changed = await conn.execute(
        "UPDATE leads SET status = 'claimed', owner_id = ?, claimed_at = ?, updated_at = ?"
        " WHERE id = ? AND status = 'new' AND owner_id IS NULL",
        (owner_id, stamp, stamp, lead_id),
    )
    return changed == 1


async def mark_human_requested(conn: Connection, lead_id: int, at: datetime) -> None:
    await conn.execute(
        "UPDATE leads SET human_requested = 1, updated_at = ? WHERE id = ?",
        (at.isoformat(), lead_id),
    )


def _marks(statuses: Sequence[str]) -> str:
    return ",".join("?" * len(statuses))


async def application_lead_in(
    conn: Connection, application_id: int, statuses: Sequence[str]
) -> int | None:
    """The id of the application's lead if its status is one of `statuses`, else None."""
    row = await conn.fetchone(
        f"SELECT id FROM leads WHERE application_id = ? AND status IN ({_marks(statuses)})",
        (application_id, *statuses),
    )
    return None if row is None else int(row["id"])


async def latest_user_lead_in(
    conn: Connection, user_id: int, statuses: Sequence[str]
) -> int | None:
    """The id of the buyer's newest lead whose status is one of `statuses`, else None."""
    row = await conn.fetchone(
        f"SELECT id FROM leads WHERE user_id = ? AND status IN ({_marks(statuses)})"
        " ORDER BY id DESC LIMIT 1",
        (user_id, *statuses),
    )
    return None if row is None else int(row["id"])


async def application_without_lead(conn: Connection, application_id: int, user_id: int) -> bool:
    """True when the application is the user's and no lead (open or closed) has it yet."""
    row = await conn.fetchone(
        "SELECT 1 FROM applications a WHERE a.id = ? AND a.user_id = ?"
        " AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.application_id = a.id)"
        + _KEEP_APPLICATION[conn.dialect],
        (application_id, user_id),
    )
    return row is not None


# PostgreSQL: the application held (as the new lead's foreign key will hold it) from this
# read on, so the retention purge, which locks it before deleting, cannot delete it between
# this answer and the insert of the lead; while the purge holds it, this read waits and then
# finds it gone. SQLite: one writer at a time.
_KEEP_APPLICATION = {"sqlite": "", "postgresql": " FOR KEY SHARE OF a"}


async def new_lead_ids(db: Database) -> list[int]:
    """Every lead still 'new', in no particular order."""
    rows = await db.fetchall("SELECT id FROM leads WHERE status = 'new'")
    return [row["id"] for row in rows]


async def owned_lead_ids(
    db: Database, owner_id: int, statuses: Sequence[str], limit: int
) -> list[int]:
    """The owner's leads in `statuses`, the most recently changed first."""
    rows = await db.fetchall(
        f"SELECT id FROM leads WHERE owner_id = ? AND status IN ({_marks(statuses)})"
        " ORDER BY updated_at DESC LIMIT ?",
        (owner_id, *statuses, limit),
    )
    return [row["id"] for row in rows]


async def lead_events(db: Database, lead_id: int) -> list[dict[str, Any]]:
    """The lead's history, oldest first (actor_id, kind, from_status, to_status, note, and
    at as an aware datetime)."""
    rows = await db.fetchall(
        "SELECT actor_id, kind, from_status, to_status, note, at FROM lead_events"
        " WHERE lead_id = ? ORDER BY id",
        (lead_id,),
    )
    return [converted(row, instants=("at",)) for row in rows]


async def latest_lead(db: Database, user_id: int) -> Row | None:
    """The user's newest lead in any status: columns id, status, human_requested."""
    return await db.fetchone(
        "SELECT id, status, human_requested FROM leads WHERE user_id = ? ORDER BY id DESC LIMIT 1",
        (user_id,),
    )


async def latest_open_lead_id(db: Database, user_id: int) -> int | None:
    """The user's newest lead still in the pipeline (not lost, not disbursed)."""
    value = await db.fetchval(
        "SELECT id FROM leads WHERE user_id = ? AND status NOT IN ('lost', 'disbursed')"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )
    return None if value is None else int(value)
