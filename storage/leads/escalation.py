"""The scans for response time: new leads that may be due for escalation, claimed leads
not yet contacted and not yet reminded, and the guarded step up of a lead's level."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import Connection, Database
from storage.values import converted


async def unclaimed_leads(db: Database, created_before: datetime) -> list[dict[str, Any]]:
    """New leads opened at `created_before` or earlier and not yet at level 2, by id
    (id, created_at: an aware datetime, escalation_level)."""
    rows = await db.fetchall(
        "SELECT id, created_at, escalation_level FROM leads"
        " WHERE status = 'new' AND escalation_level < 2 AND created_at <= ? ORDER BY id",
        (created_before.isoformat(),),
    )
    return [converted(row, instants=("created_at",)) for row in rows]


async def raise_level(conn: Connection, lead_id: int, *, from_level: int, to_level: int) -> bool:
    """Escalate a still new lead from `from_level` to `to_level`; False when it was no
    longer new or at that level (the level in the WHERE clause keeps two ticks from
    escalating twice)."""
    changed = await conn.execute(
        "UPDATE leads SET escalation_level = ? WHERE id = ? AND status = 'new'"
        " AND escalation_level = ?",
        (to_level, lead_id, from_level),
    )
    return changed == 1


async def uncontacted_leads(db: Database, claimed_before: datetime) -> list[dict[str, Any]]:
    """Claimed leads with an owner, claimed at `claimed_before` or earlier, not contacted and
    not reminded since that claim, by id (id, claimed_at: an aware datetime)."""
    rows = await db.fetchall(
        "SELECT l.id, l.claimed_at FROM leads l"
        " WHERE l.status = 'claimed' AND l.contacted_at IS NULL AND l.owner_id IS NOT NULL"
        " AND l.claimed_at <= ? AND NOT EXISTS (SELECT 1 FROM lead_events e"
        "   WHERE e.lead_id = l.id AND e.kind = 'contact_reminder' AND e.at >= l.claimed_at)"
        " ORDER BY l.id",
        (claimed_before.isoformat(),),
    )
    return [converted(row, instants=("claimed_at",)) for row in rows]
