"""`python -m bot status`: which process is active, which stand by, the outbox's backlog,
the last run of the scheduled work and the schema version, in a few lines."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime, timedelta

from bot.cli.store import require_existing
from bot.config import load_settings
from services.clock import SystemClock
from storage import instances, outbox
from storage.connect import open_database
from storage.leadership import lock_is_held
from storage.migrations import current_version, latest_version

# A process that has not written its heartbeat (every 2 s) for this long is not running.
SILENT_AFTER = timedelta(seconds=15)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status", help="which process is active, the standbys, the outbox's backlog"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    require_existing(settings)
    for line in asyncio.run(_status(settings.database, SystemClock().now())):
        print(line)
    return 0


async def _status(database: str, now: datetime) -> list[str]:
    async with open_database(database) as db:
        version = await current_version(db.conn)
        latest = latest_version(db.dialect)
        schema = f"schema: version {version}" + (
            "" if version == latest else f" (this code's: {latest}; run `python -m bot migrate`)"
        )
        if version < latest:
            return [schema]
        rows = await instances.listed(db.conn)
        held = await lock_is_held(database, db.conn)
        pending = await outbox.pending_count(db.conn)
        due = await outbox.next_due_at(db.conn)
        runs = await instances.last_runs(db.conn)
    by_id = {row.id: row for row in rows}
    lines = [_active_line(rows, held, now)]
    standbys = [r for r in rows if r.role == instances.STANDBY and now - r.seen_at < SILENT_AFTER]
    lines.append(
        "standby: " + "; ".join(f"{_who(r)}, seen {_ago(now, r.seen_at)}" for r in standbys)
        if standbys
        else "standby: none"
    )
    backlog = f"outbox: {pending} pending"
    if due is not None:
        backlog += (
            f", the oldest due for {_ago(now, due, suffix='')}"
            if due <= now
            else f", the next due in {_seconds(due - now)}"
        )
    lines.append(backlog)
    for run in runs:
        by = by_id.get(run.instance_id)
        lines.append(
            f"scheduled work: last run {_when(run.finished_at)} ({_ago(now, run.finished_at)})"
            f" by {_who(by) if by else run.instance_id}, {run.queued} queued"
        )
    if not runs:
        lines.append("scheduled work: never run")
    lines.append(schema)
    return lines


def _active_line(rows: list[instances.Instance], held: bool, now: datetime) -> str:
    claims = [r for r in rows if r.role == instances.ACTIVE]
    live = [r for r in claims if now - r.seen_at < SILENT_AFTER]
    if held and live:
        row = live[0]
        since = row.active_since or row.seen_at
        return f"active: {_who(row)}, since {_when(since)} ({_ago(now, since, suffix='')})"
    if held:
        return "active: a process holds the lock but has not registered (an older version?)"
    if claims:
        row = max(claims, key=lambda r: r.seen_at)
        return f"active: none; {_who(row)} was, last seen {_ago(now, row.seen_at)}"
    return "active: none (no process is running)"


def _who(row: instances.Instance) -> str:
    return f"{row.host} pid {row.pid}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")


def _ago(now: datetime, then: datetime, *, suffix: str = " ago") -> str:
    return _seconds(now - then) + suffix


def _seconds(span: timedelta) -> str:
    seconds = max(int(span.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
