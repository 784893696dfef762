"""The registry of bot processes (`instances`), their audit (`instance_events`) and the last
run of the scheduled work (`scheduled_runs`): what `python -m bot status` reads.

Which process is active is decided by the lock (storage/leadership.py), never by these
rows: they only describe it, and a process killed without a word leaves its row behind,
which `seen_at` gives away.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Connection
from storage.values import converted

STANDBY, ACTIVE, STOPPED, GONE = "standby", "active", "stopped", "gone"


@dataclass(frozen=True)
class Instance:
    id: str
    host: str
    pid: int
    role: str
    started_at: datetime
    active_since: datetime | None
    seen_at: datetime


@dataclass(frozen=True)
class ScheduledRun:
    name: str
    instance_id: str
    finished_at: datetime
    queued: int


async def register(conn: Connection, instance_id: str, host: str, pid: int, now: datetime) -> None:
    at = now.isoformat()
    await conn.execute(
        "INSERT INTO instances (id, host, pid, role, started_at, seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET role = excluded.role, seen_at = excluded.seen_at",
        (instance_id, host, pid, STANDBY, at, at),
    )


async def seen(conn: Connection, instance_id: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE instances SET seen_at = ? WHERE id = ?", (now.isoformat(), instance_id)
    )


async def set_role(conn: Connection, instance_id: str, role: str, now: datetime) -> None:
    """Record a change of role, and its event. Becoming active also marks whoever still
    claims to be active as gone: it lost the lock (killed, or cut off) without a word."""
    at = now.isoformat()
    if role == ACTIVE:
        await conn.execute(
            "UPDATE instances SET role = ? WHERE role = ? AND id <> ?", (GONE, ACTIVE, instance_id)
        )
    await conn.execute(
        "UPDATE instances SET role = ?, seen_at = ?, active_since = ? WHERE id = ?",
        (role, at, at if role == ACTIVE else None, instance_id),
    )
    event = "fenced" if role == STANDBY else role
    await conn.execute(
        "INSERT INTO instance_events (instance_id, event, at) VALUES (?, ?, ?)",
        (instance_id, event, at),
    )


async def forget_stale(conn: Connection, before: datetime) -> int:
    """Rows of processes not seen since `before` that stopped or vanished: the registry
    keeps what `status` can still say something useful about."""
    return await conn.execute(
        "DELETE FROM instances WHERE seen_at < ? AND role IN (?, ?, ?)",
        (before.isoformat(), STOPPED, GONE, STANDBY),
    )


async def listed(conn: Connection) -> list[Instance]:
    rows = await conn.fetchall(
        "SELECT id, host, pid, role, started_at, active_since, seen_at FROM instances"
        " ORDER BY started_at, id"
    )
    return [
        Instance(**converted(row, instants=("started_at", "active_since", "seen_at")))
        for row in rows
    ]


async def record_run(
    conn: Connection, name: str, instance_id: str, now: datetime, queued: int
) -> None:
    await conn.execute(
        "INSERT INTO scheduled_runs (name, instance_id, finished_at, queued) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET instance_id = excluded.instance_id,"
        " finished_at = excluded.finished_at, queued = excluded.queued",
        (name, instance_id, now.isoformat(), queued),
    )


async def last_runs(conn: Connection) -> list[ScheduledRun]:
    rows = await conn.fetchall(
        "SELECT name, instance_id, finished_at, queued FROM scheduled_runs ORDER BY name"
    )
    return [ScheduledRun(**converted(row, instants=("finished_at",))) for row in rows]
