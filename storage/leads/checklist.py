"""The disbursement checklist's statements: a lead's steps (lead_checklist), opening and
closing them, and the reminder's scan; services.leads.checklist decides when each runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.db import Connection, Database, Row
from storage.values import converted, instant

_STEP_INSTANTS = ("opened_at", "closed_at", "reminded_at")


async def approved_at(conn: Connection, lead_id: int) -> datetime | None:
    """When the lead was approved (its latest move to 'approved'), else its last update;
    None when there is no such lead."""
    row = await conn.fetchone(
        "SELECT COALESCE((SELECT MAX(at) FROM lead_events WHERE lead_id = l.id"
        "                 AND kind = 'status' AND to_status = 'approved'), l.updated_at)"
        " AS approved_at FROM leads l WHERE l.id = ?",
        (lead_id,),
    )
    return None if row is None else instant(row["approved_at"])


async def lead_with_steps(conn: Connection, lead_id: int) -> list[dict[str, Any]]:
    """One row per stored step (all lead_checklist columns, in no set order; opened_at,
    closed_at and reminded_at as aware datetimes) with the lead's `lead_status`; a lead with
    no steps gives one row of NULL step columns, no lead none."""
    rows = await conn.fetchall(
        "SELECT c.*, l.status AS lead_status FROM leads l"
        " LEFT JOIN lead_checklist c ON c.lead_id = l.id WHERE l.id = ?",
        (lead_id,),
    )
    return [converted(row, instants=_STEP_INSTANTS) for row in rows]


async def insert_step(
    conn: Connection, *, lead_id: int, step: str, owner_id: int | None, opened_at: datetime
) -> bool:
    """Store one open step; False when the lead has it already (UNIQUE (lead_id, step))."""
    inserted = await conn.execute(
        "INSERT INTO lead_checklist (lead_id, step, owner_id, opened_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (lead_id, step) DO NOTHING",
        (lead_id, step, owner_id, opened_at.isoformat()),
    )
    return inserted == 1


async def lead_without_steps(conn: Connection, lead_id: int) -> Row | None:
    """The lead's status and owner_id, None when it has steps stored (or does not exist)."""
    return await conn.fetchone(
        "SELECT l.status, l.owner_id FROM leads l WHERE l.id = ?"
        " AND NOT EXISTS (SELECT 1 FROM lead_checklist c WHERE c.lead_id = l.id)",
        (lead_id,),
    )


async def close_open_step(
    conn: Connection,
    *,
    lead_id: int,
    step: str,
    status: str,
    closed_by: int,
    at: datetime,
    reason: str | None,
) -> bool:
    """Close the step as done or waived; False when it was not open (already closed).

    The 'open' condition makes a second press (or a concurrent admin) a refusal, never a
    silent overwrite of who closed it.
    """
    changed = await conn.execute(
        "UPDATE lead_checklist SET status = ?, closed_by = ?, closed_at = ?, reason = ?"
        " WHERE lead_id = ? AND step = ? AND status = 'open'",
        (status, closed_by, at.isoformat(), reason, lead_id, step),
    )
    return changed == 1


async def approved_leads_without_steps(db: Database) -> list[int]:
    """Ids of approved leads with no steps stored (approved before the checklist existed)."""
    rows = await db.fetchall(
        "SELECT id FROM leads l WHERE status = 'approved'"
        " AND NOT EXISTS (SELECT 1 FROM lead_checklist c WHERE c.lead_id = l.id)"
    )
    return [row["id"] for row in rows]


async def unreminded_open_steps(db: Database, opened_before: datetime) -> list[dict[str, Any]]:
    """Open steps (id, lead_id, opened_at: an aware datetime) never reminded, opened at or
    before `opened_before`, of approved leads that have an owner; by lead, then step id."""
    rows = await db.fetchall(
        "SELECT c.id, c.lead_id, c.opened_at FROM lead_checklist c JOIN leads l ON l.id = c.lead_id"
        " WHERE c.status = 'open' AND c.reminded_at IS NULL AND l.status = 'approved'"
        " AND l.owner_id IS NOT NULL AND c.opened_at <= ? ORDER BY c.lead_id, c.id",
        (opened_before.isoformat(),),
    )
    return [converted(row, instants=("opened_at",)) for row in rows]


async def mark_reminded(conn: Connection, step_ids: Sequence[int], at: datetime) -> int:
    """Set reminded_at on those of the steps still open and never reminded; how many."""
    marks = ",".join("?" * len(step_ids))
    return await conn.execute(
        f"UPDATE lead_checklist SET reminded_at = ? WHERE id IN ({marks})"
        " AND status = 'open' AND reminded_at IS NULL",
        (at.isoformat(), *step_ids),
    )
