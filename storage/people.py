"""The people tables: `users` (locale, name, reachability, latest consent), `managers`
(who may work leads, their role and availability) and `consent_events`; plus the one read
of `lead_events` that round-robin assignment needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.db import Connection, Database, Row
from storage.values import converted

# --- users ---------------------------------------------------------------------------


async def record_contact(
    conn: Connection, user_id: int, *, locale: str, first_name: str | None, now: datetime
) -> None:
    """Create the user on first contact; on a later one, take their current first name and
    clear `unreachable_at` (writing to us means they no longer block the bot). `locale` is
    only for a new row: a known user keeps theirs."""
    at = now.isoformat()
    await conn.execute(
        "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET first_name = excluded.first_name,"
        " unreachable_at = NULL, updated_at = excluded.updated_at",
        (user_id, locale, first_name, at, at),
    )


async def find_user(db: Database, user_id: int) -> dict[str, Any] | None:
    """Keys user_id, locale, consent_status, unreachable_at (datetime or None),
    reminders_paused."""
    row = await db.fetchone(
        "SELECT user_id, locale, consent_status, unreachable_at, reminders_paused"
        " FROM users WHERE user_id = ?",
        (user_id,),
    )
    return None if row is None else converted(row, instants=("unreachable_at",))


async def set_locale(conn: Connection, user_id: int, locale: str, now: datetime) -> None:
    """The user chose a language (`locale_chosen`: the client's language no longer decides)."""
    await conn.execute(
        "UPDATE users SET locale = ?, locale_chosen = 1, updated_at = ? WHERE user_id = ?",
        (locale, now.isoformat(), user_id),
    )


async def unreachable_user_ids(db: Database) -> set[int]:
    """Users who blocked the bot (as the outbox last found)."""
    rows = await db.fetchall("SELECT user_id FROM users WHERE unreachable_at IS NOT NULL")
    return {row["user_id"] for row in rows}


async def mark_unreachable(conn: Connection, user_id: int, at: datetime) -> None:
    """Telegram refused a message for good (blocked, deactivated): the first time counts."""
    await conn.execute(
        "UPDATE users SET unreachable_at = COALESCE(unreachable_at, ?) WHERE user_id = ?",
        (at.isoformat(), user_id),
    )


async def clear_unreachable(conn: Connection, user_id: int) -> None:
    await conn.execute("UPDATE users SET unreachable_at = NULL WHERE user_id = ?", (user_id,))


async def user_locale(conn: Connection, user_id: int) -> str | None:
    """The user's locale; None for someone who never wrote to the bot."""
    row = await conn.fetchone("SELECT locale FROM users WHERE user_id = ?", (user_id,))
    return row["locale"] if row is not None else None


# --- consent -------------------------------------------------------------------------


async def set_consent(
    conn: Connection, user_id: int, *, action: str, version: str, now: datetime
) -> None:
    """The latest consent decision, kept on the user row for quick checks."""
    at = now.isoformat()
    await conn.execute(
        "UPDATE users SET consent_status = ?, consent_version = ?, consent_at = ?,"
        " updated_at = ? WHERE user_id = ?",
        (action, version, at, at, user_id),
    )


async def add_consent_event(
    conn: Connection, user_id: int, *, action: str, version: str, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO consent_events (user_id, action, version, at) VALUES (?, ?, ?, ?)",
        (user_id, action, version, now.isoformat()),
    )


async def consent_of(db: Database, user_id: int) -> Row | None:
    """Columns consent_status and consent_version; None for an unknown user."""
    return await db.fetchone(
        "SELECT consent_status, consent_version FROM users WHERE user_id = ?", (user_id,)
    )


# --- managers ------------------------------------------------------------------------


async def is_active_admin(conn: Connection, user_id: int) -> bool:
    """An active `managers` row with role 'admin' (ADMIN_IDS are the service's business)."""
    row = await conn.fetchone(
        "SELECT 1 FROM managers WHERE user_id = ? AND active = 1 AND role = 'admin'",
        (user_id,),
    )
    return row is not None


async def is_active_manager(conn: Connection, user_id: int) -> bool:
    """An active `managers` row, whatever its role."""
    row = await conn.fetchone("SELECT 1 FROM managers WHERE user_id = ? AND active = 1", (user_id,))
    return row is not None


async def note_user_name(
    conn: Connection, user_id: int, *, first_name: str, locale: str, now: datetime
) -> None:
    """Store a user's Telegram first name, creating their row (with `locale`) if needed.
    Unlike `record_contact`, it leaves `unreachable_at` alone."""
    at = now.isoformat()
    await conn.execute(
        "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
        " first_name = excluded.first_name, updated_at = excluded.updated_at",
        (user_id, locale, first_name, at, at),
    )


async def replace_placeholder_name(conn: Connection, user_id: int, name: str) -> None:
    """A managers row /away made before any name was known holds "#<id>": name it now.
    A name an admin gave is kept."""
    await conn.execute(
        "UPDATE managers SET display_name = ? WHERE user_id = ? AND display_name = ?",
        (name, user_id, f"#{user_id}"),
    )


async def manager_names(conn: Connection, user_ids: Sequence[int]) -> dict[int, str | None]:
    """Each id's name in one query: the one an admin gave (managers row), else the user's
    first name, else None. No query for no ids."""
    if not user_ids:
        return {}
    # Typed, since PostgreSQL reads an untyped parameter in VALUES as text.
    marks = ",".join("(CAST(? AS BIGINT))" for _ in user_ids)
    rows = await conn.fetchall(
        f"WITH x(id) AS (VALUES {marks}) SELECT x.id, COALESCE(m.display_name, u.first_name)"
        " AS name FROM x LEFT JOIN managers m ON m.user_id = x.id"
        " LEFT JOIN users u ON u.user_id = x.id",
        tuple(user_ids),
    )
    return {row["id"]: row["name"] for row in rows}


async def active_managers(conn: Connection) -> list[Row]:
    """Active `managers` rows by user_id: columns user_id, display_name, role, away."""
    return await conn.fetchall(
        "SELECT user_id, display_name, role, away FROM managers WHERE active = 1 ORDER BY user_id"
    )


async def set_away(
    conn: Connection, user_id: int, *, away: bool, display_name: str, role: str, now: datetime
) -> None:
    """/away and /back. A missing row is created with `display_name` and `role`; an
    existing one changes only `away`."""
    await conn.execute(
        "INSERT INTO managers (user_id, display_name, role, away, created_at)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET away = excluded.away",
        (user_id, display_name, role, 1 if away else 0, now.isoformat()),
    )


async def upsert_manager(
    conn: Connection, user_id: int, *, display_name: str, role: str, now: datetime
) -> None:
    """Add a manager, or re-activate one with this name and role (`away` is kept)."""
    await conn.execute(
        "INSERT INTO managers (user_id, display_name, role, active, created_at)"
        " VALUES (?, ?, ?, 1, ?) ON CONFLICT (user_id) DO UPDATE SET"
        " display_name = excluded.display_name, role = excluded.role, active = 1",
        (user_id, display_name, role, now.isoformat()),
    )


async def deactivate_manager(conn: Connection, user_id: int) -> bool:
    """False when there was no active row to deactivate."""
    changed = await conn.execute(
        "UPDATE managers SET active = 0 WHERE user_id = ? AND active = 1", (user_id,)
    )
    return changed > 0


async def last_assigned_owner(conn: Connection) -> int | None:
    """The current owner of the lead assigned most recently (latest 'assigned' event), or
    None when nothing was assigned yet or that lead has no owner now."""
    row = await conn.fetchone(
        "SELECT l.owner_id FROM lead_events e JOIN leads l ON l.id = e.lead_id"
        " WHERE e.kind = 'assigned' ORDER BY e.id DESC LIMIT 1",
    )
    return row["owner_id"] if row is not None else None
