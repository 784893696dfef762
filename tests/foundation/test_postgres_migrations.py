"""PostgreSQL's migrations: from empty to latest, again as a no-op, a newer database
refused, two processes at once, and a schema with SQLite's tables and columns in
PostgreSQL's types."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from importlib import resources
from pathlib import Path

import psycopg
import pytest

from storage.db import Database
from storage.migrations import MigrationError, current_version, latest_version, migrate
from storage.postgres import PostgresDatabase

ALL = [
    "0001_initial.sql",
    "0002_prequalify_drafts.sql",
    "0003_lead_queue.sql",
    "0004_loans.sql",
    "0005_privacy.sql",
    "0006_desk_sources_checklist.sql",
    "0007_reminder_scan_index.sql",
    "0008_leads_by_digest.sql",
    "0009_retention_purge_indexes.sql",
    "0010_outbox_render_at_send.sql",
    "0011_import_references.sql",
    "0012_instances.sql",
]

# Read off the SQLite files by hand: every column holding a Telegram id (user, chat,
# message) and every id or reference to one.
BIGINT = {
    ("users", "user_id"),
    ("consent_events", "id"),
    ("consent_events", "user_id"),
    ("applications", "id"),
    ("applications", "user_id"),
    ("applications", "based_on"),
    ("assessments", "id"),
    ("assessments", "application_id"),
    ("managers", "user_id"),
    ("leads", "id"),
    ("leads", "application_id"),
    ("leads", "user_id"),
    ("leads", "owner_id"),
    ("leads", "card_chat_id"),
    ("leads", "card_message_id"),
    ("leads", "digest_id"),
    ("lead_events", "id"),
    ("lead_events", "lead_id"),
    ("lead_events", "actor_id"),
    ("lead_documents", "id"),
    ("lead_documents", "lead_id"),
    ("loans", "id"),
    ("loans", "lead_id"),
    ("loans", "user_id"),
    ("loans", "manager_id"),
    ("installments", "id"),
    ("installments", "loan_id"),
    ("payments", "id"),
    ("payments", "loan_id"),
    ("payments", "installment_id"),
    ("payments", "recorded_by"),
    ("reminders_sent", "installment_id"),
    ("reminders_sent", "user_id"),
    ("outbox", "id"),
    ("outbox", "chat_id"),
    ("outbox", "message_id"),
    ("ptb_user_data", "user_id"),
    ("ptb_chat_data", "chat_id"),
    ("lead_digests", "id"),
    ("lead_digests", "chat_id"),
    ("lead_digests", "message_id"),
    ("lead_relay_waits", "user_id"),
    ("lead_relay_waits", "lead_id"),
    ("lead_relay_messages", "id"),
    ("lead_relay_messages", "lead_id"),
    ("lead_relay_messages", "buyer_id"),
    ("lead_relay_messages", "manager_id"),
    ("lead_relay_messages", "manager_message_id"),
    ("sources", "created_by"),
    ("lead_checklist", "id"),
    ("lead_checklist", "lead_id"),
    ("lead_checklist", "owner_id"),
    ("lead_checklist", "closed_by"),
    ("instance_events", "id"),
}
NUMERIC = {
    ("assessments", "loan_amount"),
    ("assessments", "monthly_payment"),
    ("assessments", "annual_rate"),
    ("assessments", "apr"),
    ("loans", "principal"),
    ("loans", "annual_rate"),
    ("loans", "balloon_amount"),
    ("loans", "upfront_fee"),
    ("loans", "apr"),
    ("installments", "payment"),
    ("installments", "principal"),
    ("installments", "interest"),
    ("installments", "balance"),
    ("installments", "paid_amount"),
    ("payments", "amount"),
}
TIMESTAMPTZ = {
    ("users", "consent_at"),
    ("users", "unreachable_at"),
    ("users", "created_at"),
    ("users", "updated_at"),
    ("users", "latest_source_at"),
    ("consent_events", "at"),
    ("applications", "created_at"),
    ("applications", "submitted_at"),
    ("applications", "updated_at"),
    ("applications", "nudged_at"),
    ("assessments", "created_at"),
    ("managers", "created_at"),
    ("leads", "claimed_at"),
    ("leads", "contacted_at"),
    ("leads", "created_at"),
    ("leads", "updated_at"),
    ("lead_events", "at"),
    ("lead_documents", "created_at"),
    ("loans", "disbursed_at"),
    ("loans", "created_at"),
    ("installments", "reported_at"),
    ("installments", "paid_at"),
    ("payments", "created_at"),
    ("reminders_sent", "created_at"),
    ("outbox", "next_attempt_at"),
    ("outbox", "created_at"),
    ("outbox", "sent_at"),
    ("lead_digests", "send_at"),
    ("lead_digests", "created_at"),
    ("lead_relay_waits", "armed_at"),
    ("lead_relay_messages", "created_at"),
    ("sources", "created_at"),
    ("lead_checklist", "opened_at"),
    ("lead_checklist", "closed_at"),
    ("lead_checklist", "reminded_at"),
    ("instances", "started_at"),
    ("instances", "active_since"),
    ("instances", "seen_at"),
    ("instance_events", "at"),
    ("scheduled_runs", "finished_at"),
}
DATE = {
    ("loans", "first_due_date"),
    ("installments", "due_date"),
    ("payments", "paid_on"),
    ("reminders_sent", "sent_on"),
    ("anonymous_counts", "day"),
}
JSONB = {
    ("applications", "answers"),
    ("assessments", "result"),
    ("outbox", "payload"),
    ("ptb_user_data", "data"),
    ("ptb_chat_data", "data"),
    ("ptb_bot_data", "data"),
    ("ptb_conversations", "state"),
}
IDENTITY = {(table, "id") for table, column in BIGINT if column == "id"}


def test_both_folders_are_numbered_alike() -> None:
    for dialect in ("sqlite", "postgresql"):
        folder = resources.files("storage") / "sql" / dialect
        assert sorted(e.name for e in folder.iterdir() if e.name.endswith(".sql")) == ALL


async def test_from_empty_to_latest_then_a_no_op(pg_url: str) -> None:
    async with PostgresDatabase(pg_url) as db:
        assert await current_version(db.conn) == 0
        assert await migrate(db.conn) == ALL
        assert await current_version(db.conn) == 12 == latest_version()
        assert await migrate(db.conn) == []
        assert await db.fetchval("SELECT COUNT(*) FROM schema_version") == 12


async def test_database_newer_than_code_is_refused(pg_url: str) -> None:
    async with PostgresDatabase(pg_url) as db:
        await migrate(db.conn)
        await db.conn.execute("INSERT INTO schema_version (version, name) VALUES (13, 'x.sql')")
        with pytest.raises(MigrationError, match="newer than this code knows") as caught:
            await migrate(db.conn)
        assert str(caught.value) == (
            "database schema version 13 is newer than this code knows (12); "
            "upgrade the bot or restore a matching backup"
        )


async def test_processes_migrating_at_once(pg_url: str) -> None:
    """Four pools (as four processes would have) start on one empty schema together: all
    succeed, and each file is applied by exactly one of them."""
    async with AsyncExitStack() as stack:
        dbs = [await stack.enter_async_context(PostgresDatabase(pg_url)) for _ in range(4)]
        results = await asyncio.gather(*(migrate(db.conn) for db in dbs))
        assert sorted(name for applied in results for name in applied) == ALL
        rows = await dbs[0].fetchall("SELECT version FROM schema_version ORDER BY version")
        assert [r["version"] for r in rows] == list(range(1, 13))


async def test_a_failing_migration_leaves_nothing_behind(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import migrations

    real = migrations.available_migrations("postgresql")
    broken = migrations.Migration(13, "0013_broken.sql", "CREATE TABLE half (x int);\nNOT SQL;\n")
    monkeypatch.setattr(
        migrations, "available_migrations", lambda dialect="sqlite": [*real, broken]
    )
    async with PostgresDatabase(pg_url) as db:
        with pytest.raises(psycopg.errors.SyntaxError):
            await migrate(db.conn)
        assert await current_version(db.conn) == 12
        assert await db.fetchval("SELECT to_regclass('half')") is None


async def _sqlite_schema(path: Path) -> tuple[dict[str, set[str]], dict[str, bool]]:
    async with Database(path) as db:
        await migrate(db.conn)
        tables = [
            r["name"]
            for r in await db.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        columns = {
            table: {
                r["name"]
                for r in await db.fetchall(f"SELECT name FROM pragma_table_info('{table}')")
            }
            for table in tables
        }
        indexes = {
            r["name"]: r["sql"].upper().find(" WHERE ") > 0
            for r in await db.fetchall(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        }
    return columns, indexes


async def test_same_tables_columns_and_indexes_as_sqlite(pg_url: str, tmp_path: Path) -> None:
    sqlite_columns, sqlite_indexes = await _sqlite_schema(tmp_path / "schema.sqlite3")
    async with PostgresDatabase(pg_url) as db:
        await migrate(db.conn)
        rows = await db.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name <> 'schema_version'"
        )
        pg_columns: dict[str, set[str]] = {}
        for row in rows:
            pg_columns.setdefault(row["table_name"], set()).add(row["column_name"])
        # Indexes made by name (not those of PRIMARY KEY and UNIQUE constraints), and
        # whether each is partial.
        rows = await db.fetchall(
            "SELECT c.relname AS name, i.indpred IS NOT NULL AS partial"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema()"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        )
        pg_indexes = {r["name"]: r["partial"] for r in rows}
    assert pg_columns == sqlite_columns
    assert pg_indexes == sqlite_indexes
    assert sum(pg_indexes.values()) == 8  # partial ones, counted in the SQLite files


async def test_postgresql_types(pg_url: str) -> None:
    async with PostgresDatabase(pg_url) as db:
        await migrate(db.conn)
        rows = await db.fetchall(
            "SELECT table_name, column_name, data_type, is_identity"
            " FROM information_schema.columns WHERE table_schema = current_schema()"
        )
    types = {(r["table_name"], r["column_name"]): r["data_type"] for r in rows}
    identity = {(r["table_name"], r["column_name"]) for r in rows if r["is_identity"] == "YES"}
    expected = (
        {key: "bigint" for key in BIGINT}
        | {key: "numeric" for key in NUMERIC}
        | {key: "timestamp with time zone" for key in TIMESTAMPTZ}
        | {key: "date" for key in DATE}
        | {key: "jsonb" for key in JSONB}
    )
    assert {key: types.get(key) for key in expected} == expected
    assert identity == IDENTITY
    # Every other column keeps SQLite's kind: text, or an integer (flags, counts, terms).
    others = {t for key, t in types.items() if key not in expected and key[0] != "schema_version"}
    assert others == {"text", "integer", "smallint"}


async def test_a_lead_takes_its_buyers_sources(pg_url: str) -> None:
    """sqlite/0006's trigger, as PL/pgSQL: a new lead copies the buyer's sources unless
    it names its own."""
    stamp = "2026-11-28T09:30:00+00:00"
    async with PostgresDatabase(pg_url) as db:
        await migrate(db.conn)
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO users (user_id, first_source, latest_source, created_at, updated_at)"
                " VALUES (?, 'expo', 'flyer', ?, ?)",
                (5_000_000_001, stamp, stamp),
            )
            plain = await tx.fetchval(
                "INSERT INTO leads (user_id, created_at, updated_at) VALUES (?, ?, ?) RETURNING id",
                (5_000_000_001, stamp, stamp),
            )
            own = await tx.fetchval(
                "INSERT INTO leads (user_id, first_source, created_at, updated_at)"
                " VALUES (?, 'mine', ?, ?) RETURNING id",
                (5_000_000_001, stamp, stamp),
            )
        rows = await db.fetchall("SELECT id, first_source, latest_source FROM leads ORDER BY id")
    assert rows == [
        {"id": plain, "first_source": "expo", "latest_source": "flyer"},
        {"id": own, "first_source": "mine", "latest_source": None},
    ]
