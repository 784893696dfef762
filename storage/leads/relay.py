"""The human hand-off's rows: the waits armed for buyers (lead_relay_waits), the buyer's
messages relayed to a manager (lead_relay_messages), and the relay's lead events."""

from __future__ import annotations

from datetime import datetime

from storage.db import Connection, Database, Row


async def waiting_buyers(db: Database) -> list[int]:
    """Every buyer with a wait armed."""
    rows = await db.fetchall("SELECT user_id FROM lead_relay_waits")
    return [row["user_id"] for row in rows]


async def has_wait(db: Database, user_id: int) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM lead_relay_waits WHERE user_id = ?", (user_id,)))


async def arm_wait(conn: Connection, *, user_id: int, lead_id: int, at: datetime) -> None:
    """Relay the buyer's next message to the lead's owner (replaces a wait armed before)."""
    await conn.execute(
        "INSERT INTO lead_relay_waits (user_id, lead_id, armed_at) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET lead_id = excluded.lead_id,"
        " armed_at = excluded.armed_at",
        (user_id, lead_id, at.isoformat()),
    )


async def waiting_lead(conn: Connection, user_id: int) -> int | None:
    """The lead the buyer's wait is for, or None when no wait is armed."""
    row = await conn.fetchone("SELECT lead_id FROM lead_relay_waits WHERE user_id = ?", (user_id,))
    return None if row is None else row["lead_id"]


async def drop_wait(conn: Connection, user_id: int) -> None:
    await conn.execute("DELETE FROM lead_relay_waits WHERE user_id = ?", (user_id,))


async def insert_relayed_message(
    conn: Connection, *, lead_id: int, buyer_id: int, manager_id: int, at: datetime
) -> int:
    """A part of a buyer's message on its way to the manager; its id."""
    return int(
        await conn.fetchval(
            "INSERT INTO lead_relay_messages (lead_id, buyer_id, manager_id, created_at)"
            " VALUES (?, ?, ?, ?) RETURNING id",
            (lead_id, buyer_id, manager_id, at.isoformat()),
        )
    )


async def relayed_message(conn: Connection, *, manager_id: int, message_id: int) -> Row | None:
    """The relayed message the manager's chat shows as `message_id` (lead_id, buyer_id)."""
    return await conn.fetchone(
        "SELECT lead_id, buyer_id FROM lead_relay_messages"
        " WHERE manager_id = ? AND manager_message_id = ?",
        (manager_id, message_id),
    )


async def set_manager_message(conn: Connection, relay_id: int, message_id: int) -> None:
    await conn.execute(
        "UPDATE lead_relay_messages SET manager_message_id = ? WHERE id = ?",
        (message_id, relay_id),
    )


async def relayed_buyer(conn: Connection, relay_id: int) -> int | None:
    """The buyer whose message the relayed part is, or None if it is gone."""
    row = await conn.fetchone("SELECT buyer_id FROM lead_relay_messages WHERE id = ?", (relay_id,))
    return None if row is None else row["buyer_id"]


async def add_relayed_to_manager(
    conn: Connection, lead_id: int, *, buyer_id: int, at: datetime
) -> None:
    """The lead event of a buyer's message relayed to its owner."""
    await conn.execute(
        "INSERT INTO lead_events (lead_id, actor_id, kind, note, at)"
        " VALUES (?, ?, 'relayed_to_manager', NULL, ?)",
        (lead_id, buyer_id, at.isoformat()),
    )


async def add_relayed_to_buyer(
    conn: Connection, lead_id: int, *, manager_id: int, at: datetime
) -> None:
    """The lead event of a manager's reply relayed back to the buyer."""
    await conn.execute(
        "INSERT INTO lead_events (lead_id, actor_id, kind, at)"
        " VALUES (?, ?, 'relayed_to_buyer', ?)",
        (lead_id, manager_id, at.isoformat()),
    )
