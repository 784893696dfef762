"""Who may work leads: managers and admins, their availability and round-robin assignment.

Managers are the ids in MANAGER_IDS plus active rows of the `managers` table; admins are
ADMIN_IDS plus rows with role 'admin'. Admins are managers too. `/away` and `/back` mark a
row away (a MANAGER_IDS manager gets a row the first time they go away). Every check reads
the database, so a manager removed by an admin loses access at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from services.runtime import Runtime
from storage import outbox

# How far back /start fetches what could not reach a manager who had no private chat yet:
# a claim's full lead is worth it for days; older notices are history, /lead shows it.
WAITING_DAYS = 14


class ManagerError(ValueError):
    """An admin's change that cannot be made; `code` names a message template key."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Manager:
    user_id: int
    display_name: str
    role: str  # 'manager' or 'admin'
    away: bool
    from_settings: bool  # in MANAGER_IDS / ADMIN_IDS: cannot be removed in chat


async def _rows(conn: aiosqlite.Connection, sql: str, params: tuple = ()) -> list:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def _one(conn: aiosqlite.Connection, sql: str, params: tuple = ()):
    """The first row of a query by key (or with LIMIT): one trip to aiosqlite's thread
    (execute_fetchall) instead of three (execute, fetch, close)."""
    rows = await conn.execute_fetchall(sql, params)
    return rows[0] if rows else None


async def is_admin(
    runtime: Runtime, user_id: int, conn: aiosqlite.Connection | None = None
) -> bool:
    if user_id in runtime.admin_ids:
        return True
    row = await _one(
        conn or runtime.db.conn,
        "SELECT 1 FROM managers WHERE user_id = ? AND active = 1 AND role = 'admin'",
        (user_id,),
    )
    return row is not None


async def is_manager(
    runtime: Runtime, user_id: int, conn: aiosqlite.Connection | None = None
) -> bool:
    """Managers and admins: everyone allowed to see and work leads."""
    if user_id in runtime.manager_ids or user_id in runtime.admin_ids:
        return True
    row = await _one(
        conn or runtime.db.conn,
        "SELECT 1 FROM managers WHERE user_id = ? AND active = 1",
        (user_id,),
    )
    return row is not None


async def note_name(
    runtime: Runtime, user_id: int, first_name: str | None, locale: str | None = None
) -> None:
    """Remember the name a manager goes by on Telegram, from the update they just sent.

    Every update carries it (a button press in the group too), so cards and buyers name the
    manager as Telegram does, never by id; a rename shows from their next action. Written
    only when it changed (`runtime.manager_names` remembers what this process wrote).
    `locale` is their client's language, kept only for a user row made here."""
    name = (first_name or "").strip()[:64]
    if not name or runtime.manager_names.get(user_id) == name:
        return
    now = runtime.clock.now().isoformat()
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO users (user_id, locale, first_name, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
            " first_name = excluded.first_name, updated_at = excluded.updated_at",
            (user_id, locale or runtime.default_locale, name, now, now),
        )
        # A row /away made before any name was known holds "#<id>" in its place.
        await conn.execute(
            "UPDATE managers SET display_name = ? WHERE user_id = ? AND display_name = ?",
            (name, user_id, f"#{user_id}"),
        )
    runtime.manager_names[user_id] = name


async def display_name(conn: aiosqlite.Connection, user_id: int | None) -> str:
    """How a manager is named on cards: the name an admin gave them, else their Telegram
    first name as of their latest action (`note_name`)."""
    if user_id is None:
        return ""
    return (await display_names(conn, [user_id]))[user_id]


async def display_names(
    conn: aiosqlite.Connection, user_ids: Iterable[int | None]
) -> dict[int, str]:
    """`display_name` of each distinct id, in one query (a digest's owners, for one)."""
    wanted = sorted({i for i in user_ids if i is not None})
    if not wanted:
        return {}
    marks = ",".join("(?)" for _ in wanted)
    rows = await conn.execute_fetchall(
        f"WITH x(id) AS (VALUES {marks}) SELECT x.id, COALESCE(m.display_name, u.first_name)"
        " AS name FROM x LEFT JOIN managers m ON m.user_id = x.id"
        " LEFT JOIN users u ON u.user_id = x.id",
        tuple(wanted),
    )
    names = {row["id"]: row["name"] for row in rows}
    return {i: names.get(i) or f"#{i}" for i in wanted}


async def all_managers(runtime: Runtime, conn: aiosqlite.Connection | None = None) -> list[Manager]:
    """Every manager and admin, settings ones first, then by id."""
    conn = conn or runtime.db.conn
    rows = {
        row["user_id"]: row
        for row in await _rows(conn, "SELECT * FROM managers WHERE active = 1 ORDER BY user_id")
    }
    result: list[Manager] = []
    configured = sorted(runtime.manager_ids | runtime.admin_ids)
    for user_id in configured:
        row = rows.pop(user_id, None)
        role = "admin" if user_id in runtime.admin_ids else (row["role"] if row else "manager")
        result.append(
            Manager(
                user_id=user_id,
                display_name=await display_name(conn, user_id),
                role=role,
                away=bool(row["away"]) if row else False,
                from_settings=True,
            )
        )
    names = await display_names(conn, rows)
    for user_id, row in rows.items():
        result.append(Manager(user_id, names[user_id], row["role"], bool(row["away"]), False))
    return result


async def admin_ids(runtime: Runtime, conn: aiosqlite.Connection | None = None) -> list[int]:
    return [m.user_id for m in await all_managers(runtime, conn) if m.role == "admin"]


async def available_ids(runtime: Runtime, conn: aiosqlite.Connection | None = None) -> list[int]:
    """Managers who take new leads: not away. Admins who are only ADMIN_IDS do not."""
    managers = await all_managers(runtime, conn)
    return [
        m.user_id
        for m in managers
        if not m.away and (m.user_id in runtime.manager_ids or not m.from_settings)
    ]


async def set_away(runtime: Runtime, user_id: int, away: bool, name: str | None) -> None:
    """`/away` and `/back`. A MANAGER_IDS manager gets a managers row the first time."""
    now = runtime.clock.now().isoformat()
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO managers (user_id, display_name, role, away, created_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET away = excluded.away",
            (
                user_id,
                name or f"#{user_id}",
                "admin" if user_id in runtime.admin_ids else "manager",
                1 if away else 0,
                now,
            ),
        )


async def add_manager(
    runtime: Runtime, actor_id: int, user_id: int, name: str, role: str = "manager"
) -> None:
    """An admin adds (or re-activates) a manager."""
    if not await is_admin(runtime, actor_id):
        raise ManagerError("not_allowed")
    if role not in ("manager", "admin"):
        raise ManagerError("bad_role")
    now = runtime.clock.now().isoformat()
    async with runtime.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO managers (user_id, display_name, role, active, created_at)"
            " VALUES (?, ?, ?, 1, ?) ON CONFLICT (user_id) DO UPDATE SET"
            " display_name = excluded.display_name, role = excluded.role, active = 1",
            (user_id, name[:64], role, now),
        )


async def remove_manager(runtime: Runtime, actor_id: int, user_id: int) -> None:
    """An admin removes a manager added in chat; MANAGER_IDS ones stay (settings own them)."""
    if not await is_admin(runtime, actor_id):
        raise ManagerError("not_allowed")
    if user_id in runtime.manager_ids or user_id in runtime.admin_ids:
        raise ManagerError("from_settings")
    async with runtime.db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE managers SET active = 0 WHERE user_id = ? AND active = 1", (user_id,)
        )
        if cursor.rowcount == 0:
            raise ManagerError("not_found")


async def next_round_robin(conn: aiosqlite.Connection, runtime: Runtime) -> int | None:
    """The available manager after the one who got the last assigned lead, in id order."""
    candidates = sorted(await available_ids(runtime, conn))
    if not candidates:
        return None
    row = await _one(
        conn,
        "SELECT l.owner_id FROM lead_events e JOIN leads l ON l.id = e.lead_id"
        " WHERE e.kind = 'assigned' ORDER BY e.id DESC LIMIT 1",
    )
    last = row["owner_id"] if row is not None else None
    if last is None:
        return candidates[0]
    later = [c for c in candidates if c > last]
    return later[0] if later else candidates[0]


async def deliver_waiting(runtime: Runtime, user_id: int) -> int:
    """The manager has just pressed Start in private: queue again what failed to reach
    them because that chat was not open yet, or blocked (a claim's full lead, papers,
    notices), from the last `WAITING_DAYS`."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        count = await outbox.requeue_undelivered(
            conn, user_id, now, now - timedelta(days=WAITING_DAYS)
        )
    if count:
        runtime.wake_outbox()
    return count


async def locale_of_user(conn: aiosqlite.Connection, user_id: int, default: str) -> str:
    row = await _one(conn, "SELECT locale FROM users WHERE user_id = ?", (user_id,))
    return row["locale"] if row is not None else default


def now_iso(moment: datetime) -> str:
    return moment.isoformat()
