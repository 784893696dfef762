"""Where statements run: on the event loop's thread when that is safe (a chat update's
few small statements, every write transaction); on a read-only connection with a thread
of its own for `offloaded()` reads, which chats do not wait behind; on the main
connection's worker while another process holds the write lock (the bot waits for it
without freezing) and behind such a wait (order is kept).

SQLite's own (storage/db.py): PostgreSQL's calls wait for the server asynchronously on
pooled connections, with no thread or file lock of ours to test."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrations import migrate

COUNT_TO_A_MILLION = (
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000)"
    " SELECT max(n) FROM c"
)


async def _thread_of_next_statement(db: Database) -> int:
    return await db.fetchval("SELECT thread_id()")


async def _opened(db_path: Path) -> Database:
    """The database, with thread_id() on both connections to show where a statement ran."""
    db = await Database(db_path).open()
    await db.conn.raw.create_function("thread_id", 0, threading.get_ident)
    with db.offloaded():
        await db.conn.raw.create_function("thread_id", 0, threading.get_ident)
    return db


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    opened = await _opened(db_path)
    yield opened
    await opened.close()


async def test_small_statements_run_on_the_loop_and_offloaded_reads_elsewhere(db):
    assert await _thread_of_next_statement(db) == threading.get_ident()
    with db.offloaded():
        assert await _thread_of_next_statement(db) != threading.get_ident()
        # A write transaction stays on the main connection, on the loop.
        async with db.transaction() as conn:
            assert await conn.fetchval("SELECT thread_id()") == threading.get_ident()
        assert await _thread_of_next_statement(db) != threading.get_ident()
    assert await _thread_of_next_statement(db) == threading.get_ident()


async def test_chats_do_not_wait_behind_an_offloaded_read(db):
    await db.conn.execute("CREATE TABLE answers (n INTEGER)")

    async def long_report() -> int:
        with db.offloaded():
            return await db.fetchval(COUNT_TO_A_MILLION)

    report = asyncio.create_task(long_report())
    await asyncio.sleep(0)  # the report is now reading on its own thread
    for n in range(20):
        await db.execute_write("INSERT INTO answers VALUES (?)", (n,))
    assert not report.done(), "the writes waited for the report"
    assert await report == 1_000_000
    assert await db.fetchval("SELECT count(*) FROM answers") == 20


async def test_offloaded_reads_cannot_write(db):
    await db.conn.execute("CREATE TABLE answers (n INTEGER)")
    with db.offloaded(), pytest.raises(sqlite3.OperationalError, match="readonly"):
        await db.conn.execute("INSERT INTO answers VALUES (1)")
    assert await db.fetchval("SELECT count(*) FROM answers") == 0


async def test_a_statement_waits_its_turn_behind_one_waiting_on_the_worker(db, db_path):
    await migrate(db.conn)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
    write = asyncio.create_task(
        db.execute_write(
            "INSERT INTO users (user_id, locale, created_at, updated_at) VALUES (6, 'en', 't', 't')"
        )
    )
    await asyncio.sleep(0.05)  # the write is waiting for the lock on the worker
    row = await db.fetchone("SELECT thread_id() AS thread, count(*) AS n FROM users")
    await write
    other.close()
    assert row["thread"] != threading.get_ident(), "it ran beside the waiting write"
    assert row["n"] == 1, "the later read overtook the write"


async def test_a_write_lock_held_elsewhere_is_waited_for_without_freezing_the_bot(db, db_path):
    await migrate(db.conn)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    beat = asyncio.create_task(ticker())
    asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
    await db.execute_write(
        "INSERT INTO users (user_id, locale, created_at, updated_at) VALUES (5, 'en', 't', 't')"
    )
    beat.cancel()
    other.close()
    assert await db.fetchval("SELECT count(*) FROM users WHERE user_id = 5") == 1
    assert ticks >= 5, "the event loop stood still while the write waited"
    assert await _thread_of_next_statement(db) == threading.get_ident()


async def test_checkpoints_run_on_a_thread_not_inside_a_commit(db_path, monkeypatch):
    """A COMMIT on the loop's thread never copies the WAL into the database file (that
    stopped every chat for ~100 ms); `checkpoint()` does, on a thread of its own."""
    from storage import db as db_module

    monkeypatch.setattr(db_module, "CHECKPOINT_SECONDS", 3600)  # only the explicit one here
    db = await _opened(db_path)
    try:
        await db.conn.execute("CREATE TABLE photos (png BLOB)")
        for _ in range(60):  # ~6 MB of WAL: past the 1000 pages of an automatic checkpoint
            await db.execute_write("INSERT INTO photos VALUES (randomblob(100000))")
        assert db_path.stat().st_size < 1_000_000, "a commit checkpointed on the loop"
        await db.checkpoint()
        assert db_path.stat().st_size > 6_000_000
        assert await db.fetchval("SELECT count(*) FROM photos") == 60
    finally:
        await db.close()
