"""Who may work leads: managers and admins, their availability and round-robin assignment.

Managers are the ids in MANAGER_IDS plus active rows of the `managers` table; admins are
ADMIN_IDS plus rows with role 'admin'. Admins are managers too. `/away` and `/back` mark a
row away (a MANAGER_IDS manager gets a row the first time they go away). Every check reads
the database, so a manager removed by an admin loses access at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from services.runtime import Runtime
from storage import outbox, people
from storage.db import Connection

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


async def is_admin(runtime: Runtime, user_id: int, conn: Connection | None = None) -> bool:
    if user_id in runtime.admin_ids:
        return True
    return await people.is_active_admin(conn or runtime.db.conn, user_id)


async def is_manager(runtime: Runtime, user_id: int, conn: Connection | None = None) -> bool:
    """Managers and admins: everyone allowed to see and work leads."""
    if user_id in runtime.manager_ids or user_id in runtime.admin_ids:
        return True
    return await people.is_active_manager(conn or runtime.db.conn, user_id)


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
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        await people.note_user_name(
            conn, user_id, first_name=name, locale=locale or runtime.default_locale, now=now
        )
        await people.replace_placeholder_name(conn, user_id, name)
    runtime.manager_names[user_id] = name


async def display_name(conn: Connection, user_id: int | None) -> str:
    """How a manager is named on cards: the name an admin gave them, else their Telegram
    first name as of their latest action (`note_name`)."""
    if user_id is None:
        return ""
    return (await display_names(conn, [user_id]))[user_id]


async def display_names(conn: Connection, user_ids: Iterable[int | None]) -> dict[int, str]:
    """`display_name` of each distinct id, in one query (a digest's owners, for one)."""
    wanted = sorted({i for i in user_ids if i is not None})
    names = await people.manager_names(conn, wanted)
    return {i: names.get(i) or f"#{i}" for i in wanted}


async def all_managers(runtime: Runtime, conn: Connection | None = None) -> list[Manager]:
    """Every manager and admin, settings ones first, then by id."""
    conn = conn or runtime.db.conn
    rows = {row["user_id"]: row for row in await people.active_managers(conn)}
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


async def admin_ids(runtime: Runtime, conn: Connection | None = None) -> list[int]:
    return [m.user_id for m in await all_managers(runtime, conn) if m.role == "admin"]


async def available_ids(runtime: Runtime, conn: Connection | None = None) -> list[int]:
    """Managers who take new leads: not away. Admins who are only ADMIN_IDS do not."""
    managers = await all_managers(runtime, conn)
    return [
        m.user_id
        for m in managers
        if not m.away and (m.user_id in runtime.manager_ids or not m.from_settings)
    ]


async def set_away(runtime: Runtime, user_id: int, away: bool, name: str | None) -> None:
    """`/away` and `/back`. A MANAGER_IDS manager gets a managers row the first time."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        await people.set_away(
            conn,
            user_id,
            away=away,
            display_name=name or f"#{user_id}",
            role="admin" if user_id in runtime.admin_ids else "manager",
            now=now,
        )


async def add_manager(
    runtime: Runtime, actor_id: int, user_id: int, name: str, role: str = "manager"
) -> None:
    """An admin adds (or re-activates) a manager."""
    if not await is_admin(runtime, actor_id):
        raise ManagerError("not_allowed")
    if role not in ("manager", "admin"):
        raise ManagerError("bad_role")
    now = runtime.clock.now()
    async with runtime.db.transaction() as conn:
        await people.upsert_manager(conn, user_id, display_name=name[:64], role=role, now=now)


async def remove_manager(runtime: Runtime, actor_id: int, user_id: int) -> None:
    """An admin removes a manager added in chat; MANAGER_IDS ones stay (settings own them)."""
    if not await is_admin(runtime, actor_id):
        raise ManagerError("not_allowed")
    if user_id in runtime.manager_ids or user_id in runtime.admin_ids:
        raise ManagerError("from_settings")
    async with runtime.db.transaction() as conn:
        if not await people.deactivate_manager(conn, user_id):
            raise ManagerError("not_found")


async def next_round_robin(conn: Connection, runtime: Runtime) -> int | None:
    """The available manager after the one who got the last assigned lead, in id order."""
    candidates = sorted(await available_ids(runtime, conn))
    if not candidates:
        return None
    last = await people.last_assigned_owner(conn)
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


async def locale_of_user(conn: Connection, user_id: int, default: str) -> str:
    locale = await people.user_locale(conn, user_id)
    return locale if locale is not None else default
