"""The database under concurrent writers: a lock held elsewhere makes the bot wait, not
fail; `python -m bot backup FILE` copies the live database consistently.

SQLite's own but the restart test: its file's write lock, its backup of a live file, a
DATABASE_PATH naming no file. PostgreSQL's backup is pg_dump's (tests/cli/test_cli_postgres.py)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from bot.sandbox.world import SandboxWorld
from storage import outbox
from storage.db import Database
from storage.migrations import migrate

ROOT = Path(__file__).resolve().parents[2]
HOLD_SECONDS = 1.2


def _hold_write_lock(db_path: Path) -> sqlite3.Connection:
    """Another process's writer (a CLI import, a backup script) in the middle of a write."""
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute(
        "INSERT INTO users (user_id, locale, created_at, updated_at)"
        " VALUES (424242, 'en', '2026-03-03T02:00:00+00:00', '2026-03-03T02:00:00+00:00')"
    )
    return other


# SQLite only: one writer at a time is SQLite's lock; PostgreSQL writers lock rows, and
# its counterpart is the restart test below (connections dropped under the bot).
async def test_a_held_write_lock_makes_the_bot_wait_and_nothing_is_lost(db_path):
    async with SandboxWorld.create(db_path) as world:
        await _waits_for_the_lock(world, db_path)


async def _waits_for_the_lock(world: SandboxWorld, db_path: Path) -> None:
    users = [world.user(1001 + i, f"Buyer{i}") for i in range(3)]
    other = _hold_write_lock(db_path)
    asyncio.get_running_loop().call_later(HOLD_SECONDS, other.execute, "COMMIT")
    started = time.monotonic()
    for user in users:
        user.command("/start")
    # A service write with its outbox row, while the lock is still held.
    async with world.runtime.db.transaction() as conn:
        await outbox.enqueue(
            conn,
            chat_id=users[0].id,
            method="sendMessage",
            payload={"text": "queued during the lock"},
            now=world.clock.now(),
            dedup_key="lock-test",
        )
    waited = time.monotonic() - started
    await world.settle()
    other.close()

    assert waited >= HOLD_SECONDS * 0.8, "the write did not wait for the other writer"
    for user in users:
        assert user.bot_messages(), f"{user.name} got no answer"
    ids = {row[0] for row in await world.runtime.db.fetchall("SELECT user_id FROM users")}
    assert {1001, 1002, 1003, 424242} <= ids
    assert any(m.text == "queued during the lock" for m in users[0].bot_messages())


def _writer(db_path: Path, stop: threading.Event, committed: list[int]) -> None:
    """Writes a user and their consent event per transaction, as fast as it can."""
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode = WAL")
    # Nothing reaches the main file until a checkpoint: a backup that copied the file
    # instead of using SQLite's backup API would miss every row.
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    n = 0
    while not stop.is_set():
        n += 1
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO users (user_id, locale, created_at, updated_at) VALUES (?, 'en', 't', 't')",
            (n,),
        )
        conn.execute(
            "INSERT INTO consent_events (user_id, action, version, at)"
            " VALUES (?, 'given', 'v1', 't')",
            (n,),
        )
        conn.execute("COMMIT")
        committed.append(n)
    conn.close()


def test_backup_is_a_consistent_copy_while_writes_continue(tmp_path):
    source = tmp_path / "live.sqlite3"

    async def create() -> None:
        async with Database(source) as db:
            await migrate(db.conn)

    asyncio.run(create())
    stop, committed = threading.Event(), []
    writer = threading.Thread(target=_writer, args=(source, stop, committed))
    writer.start()
    try:
        while len(committed) < 200:  # waiting for a thread, not for a schedule
            time.sleep(0.01)
        before = len(committed)
        env = {
            "PYTHONPATH": str(ROOT),
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "DATABASE_PATH": str(source),
        }
        target = tmp_path / "copy.sqlite3"
        result = subprocess.run(
            [sys.executable, "-m", "bot", "backup", str(target)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        after = len(committed)
    finally:
        stop.set()
        writer.join()
    assert result.returncode == 0, result.stderr
    assert after > before, "the writer did not keep writing during the backup"

    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    users = copy.execute("SELECT count(*) FROM users").fetchone()[0]
    events = copy.execute("SELECT count(*) FROM consent_events").fetchone()[0]
    copy.close()
    assert users == events, "the copy caught a transaction half-way"
    assert users >= before, "rows committed before the backup started are missing"


def test_backup_refuses_a_missing_database_with_one_clear_line(tmp_path):
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "nope.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(tmp_path / "copy.sqlite3")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "does not exist" in result.stderr
    assert not (tmp_path / "copy.sqlite3").exists()


def _drop_connections(admin_url: str, application_name: str) -> int:
    """What a server restart does to the bot: every backend of its connections ends (and
    is gone before this returns: pg_terminate_backend only signals it)."""
    import psycopg

    mine = (
        " FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND application_name = %s"
    )
    with psycopg.connect(admin_url, autocommit=True) as admin:
        ended = len(
            admin.execute("SELECT pg_terminate_backend(pid)" + mine, (application_name,)).fetchall()
        )
        until = time.monotonic() + 10
        while admin.execute("SELECT count(*)" + mine, (application_name,)).fetchone()[0]:
            assert time.monotonic() < until, "the backends did not end"
            time.sleep(0.01)
    return ended


async def test_connections_dropped_under_the_running_bot_are_replaced_and_nothing_is_lost(
    pg_url, caplog
):
    name = f"loanbot_{uuid.uuid4().hex[:12]}"  # only this test's connections are dropped
    async with SandboxWorld.create(f"{pg_url}&application_name={name}") as world:
        li = world.user(1001, "Li")
        li.command("/start")
        await world.settle()
        consent_step = li.last_text()
        buttons = [button.text for button in li.buttons()]
        assert buttons, consent_step
        async with world.runtime.db.transaction() as conn:
            await outbox.enqueue(
                conn,
                chat_id=li.id,
                method="sendMessage",
                payload={"text": "queued before the restart"},
                now=world.clock.now(),
                dedup_key="restart-test",
            )

        assert _drop_connections(pg_url, name) >= 1

        li.press(buttons[0])  # the next conversation step, on fresh connections
        await world.settle()
        texts = [m.text for m in li.bot_messages()]
        assert "queued before the restart" in texts
        assert li.last_text() != consent_step
        (row,) = await world.runtime.db.fetchall(
            "SELECT status FROM outbox WHERE dedup_key = ?", ("restart-test",)
        )
        assert row["status"] == "sent"
        state = await world.runtime.db.fetchval(
            "SELECT state FROM ptb_conversations WHERE key = ?", (f"[{li.id}, {li.id}]",)
        )
        assert state is not None and state != '"consent"'
