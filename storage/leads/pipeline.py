"""A lead's way along the pipeline: its events (lead_events), its status and owner, and
the guarded status moves and reassignments."""

from __future__ import annotations

from datetime import datetime

from storage.db import Connection, Row


async def add_event(
    conn: Connection,
    lead_id: int,
    actor_id: int | None,
    kind: str,
    at: datetime,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO lead_events (lead_id, actor_id, kind, from_status, to_status, note, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (lead_id, actor_id, kind, from_status, to_status, note, at.isoformat()),
    )


async def status_and_owner(conn: Connection, lead_id: int) -> Row | None:
    """The lead's status and owner_id, or None when there is no such lead."""
    return await conn.fetchone("SELECT status, owner_id FROM leads WHERE id = ?", (lead_id,))


async def move_status(
    conn: Connection,
    lead_id: int,
    *,
    from_status: str,
    to_status: str,
    lost_reason: str | None,
    at: datetime,
) -> bool:
    """Move the lead from `from_status` to `to_status`; False when it is no longer in
    `from_status`. The first move that is not to 'lost' stamps contacted_at; a reason
    (None keeps the old one) is stored as lost_reason.

    The status in the WHERE clause makes a concurrent second move fail instead of
    silently overwriting the first."""
    stamp = at.isoformat()
    changed = await conn.execute(
        "UPDATE leads SET status = ?, updated_at = ?,"
        " contacted_at = CASE WHEN ? != 'lost' AND contacted_at IS NULL THEN ?"
        "                ELSE contacted_at END,"
        " lost_reason = COALESCE(?, lost_reason)"
        " WHERE id = ? AND status = ?",
        (to_status, stamp, to_status, stamp, lost_reason, lead_id, from_status),
    )
    return changed == 1


async def set_owner(
    conn: Connection, lead_id: int, *, owner_id: int, status: str, at: datetime
) -> None:
    """Give the lead to `owner_id` in `status`: claimed now, escalation cleared."""
    stamp = at.isoformat()
    await conn.execute(
        "UPDATE leads SET owner_id = ?, status = ?, claimed_at = ?, escalation_level = 0,"
        " updated_at = ? WHERE id = ?",
        (owner_id, status, stamp, stamp, lead_id),
    )
