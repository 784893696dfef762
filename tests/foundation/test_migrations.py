"""Migrations apply from empty, re-run as a no-op, and refuse a database from the future.

SQLite's own (sqlite_master, PRAGMA user_version, its pragmas); PostgreSQL's counterparts
are in test_postgres_migrations.py. The `migrate` command runs on both."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Database
from storage.migrations import MigrationError, current_version, latest_version, migrate


async def test_from_empty_to_latest(db_path: Path) -> None:
    async with Database(db_path) as db:
        applied = await migrate(db.conn)
        assert applied[0] == "0001_initial.sql"
        assert await current_version(db.conn) == latest_version()
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert {"users", "applications", "leads", "loans", "installments", "outbox"} <= tables


async def test_rerun_is_a_no_op(db_path: Path) -> None:
    async with Database(db_path) as db:
        await migrate(db.conn)
        assert await migrate(db.conn) == []


async def test_pragmas_for_a_chat_bot(db_path: Path) -> None:
    async with Database(db_path) as db:
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        # 0 on the loop's thread by design: a locked database is waited for on the worker
        # thread (tests/resilience/test_resilience_database.py).
        assert await db.fetchval("PRAGMA busy_timeout") == 0


async def test_database_newer_than_code_is_refused(db_path: Path) -> None:
    async with Database(db_path) as db:
        await migrate(db.conn)
        await db.conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
        with pytest.raises(MigrationError, match="newer than this code knows"):
            await migrate(db.conn)


async def test_a_failing_migration_leaves_nothing_behind(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import migrations

    real = migrations.available_migrations()
    broken = migrations.Migration(
        real[-1].version + 1, "9999_broken.sql", "CREATE TABLE half (x);\nNOT SQL;\n"
    )
    monkeypatch.setattr(migrations, "available_migrations", lambda: [*real, broken])
    async with Database(db_path) as db:
        with pytest.raises(Exception):  # noqa: B017 - sqlite's own syntax error
            await migrate(db.conn)
        assert await current_version(db.conn) == real[-1].version
        assert await db.fetchval("SELECT name FROM sqlite_master WHERE name = 'half'") is None


def test_migrate_command(database: Path | str, tmp_path: Path) -> None:
    from tests.foundation.test_settings import run_cli
    from tests.processes import database_env

    first = run_cli("migrate", env=database_env(database), cwd=tmp_path)
    assert first.returncode == 0 and "0001_initial.sql" in first.stdout
    again = run_cli("migrate", env=database_env(database), cwd=tmp_path)
    assert again.returncode == 0 and "up to date" in again.stdout
