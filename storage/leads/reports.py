"""Reads over the whole lead book for reports: the leads and status moves behind /stats,
and the event history behind the CSV export. Callers run them inside
`Database.offloaded()`, so they read on the reader connection, off the chats' thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import Connection, Database, Row
from storage.values import converted

_LEAD_INSTANTS = ("created_at", "claimed_at", "contacted_at")


async def leads_opened_since(db: Database, since: datetime) -> list[dict[str, Any]]:
    """id, status, owner_id, created_at, claimed_at, contacted_at (aware datetimes, the last
    two None until then) of leads opened since."""
    rows = await db.fetchall(
        "SELECT id, status, owner_id, created_at, claimed_at, contacted_at FROM leads"
        " WHERE created_at >= ?",
        (since.isoformat(),),
    )
    return [converted(row, instants=_LEAD_INSTANTS) for row in rows]


async def status_moves_since(db: Database, since: datetime) -> list[Row]:
    """(lead_id, to_status) of every status move of the leads opened since `since`."""
    return await db.fetchall(
        "SELECT e.lead_id, e.to_status FROM lead_events e JOIN leads l ON l.id = e.lead_id"
        " WHERE l.created_at >= ? AND e.to_status IS NOT NULL",
        (since.isoformat(),),
    )


async def lead_events(conn: Connection, since: datetime | None) -> list[dict[str, Any]]:
    """lead_id, actor_id, kind, to_status, note, at (an aware datetime) of every lead event,
    oldest first; with `since`, of the leads opened since then."""
    sql = "SELECT lead_id, actor_id, kind, to_status, note, at FROM lead_events"
    params: tuple = ()
    if since is not None:
        sql += " WHERE lead_id IN (SELECT id FROM leads WHERE created_at >= ?)"
        params = (since.isoformat(),)
    rows = await conn.fetchall(sql + " ORDER BY id", params)
    return [converted(row, instants=("at",)) for row in rows]
