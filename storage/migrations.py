"""Numbered SQL migrations, applied in order, one folder per database, numbered alike.

SQLite: each file `sql/sqlite/NNNN_name.sql` runs in one transaction together with the
bump of PRAGMA user_version, so a migration is applied entirely or not at all and
re-running is a no-op. PostgreSQL: `sql/postgresql/NNNN_name.sql` (the same numbers and
names, PostgreSQL's types) with a row in `schema_version` per applied file, each in a
transaction that holds an advisory lock, so processes starting at once migrate one after
the other and each file is applied once. Applied files are never edited: a change to the
schema is a new file in both folders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """The database cannot be brought to this code's schema."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations(dialect: str = "sqlite") -> list[Migration]:
    folder = resources.files("storage") / "sql" / dialect
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    # Numbers must run 1, 2, 3...: with user_version as the only record, a database
    # migrated past a gap would never apply a file that later fills it.
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {migration.name}: expected number {expected:04d}")
    return found


def latest_version(dialect: str = "sqlite") -> int:
    migrations = available_migrations(dialect)
    return migrations[-1].version if migrations else 0


async def current_version(conn: Any) -> int:
    """The schema version of the database behind `conn` (storage's Connection on either
    database; 0 for an empty one)."""
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        return await _pg_version(conn)
    async with _sqlite(conn).execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0])


async def migrate(conn: Any) -> list[str]:
    """Apply every migration newer than the database; return the names applied."""
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        return await _migrate_postgresql(conn)
    conn = _sqlite(conn)
    migrations = available_migrations()
    version = await current_version(conn)
    latest = migrations[-1].version if migrations else 0
    if version > latest:
        raise _newer(version, latest)
    applied = []
    for migration in migrations:
        if migration.version <= version:
            continue
        # executescript would commit on its own; run statements inside our own transaction.
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migration.sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {migration.version}")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
        applied.append(migration.name)
    return applied


def _sqlite(conn: Any) -> Any:
    """aiosqlite's connection behind storage's Connection (or the one given)."""
    return getattr(conn, "raw", conn)


def _newer(version: int, latest: int) -> MigrationError:
    return MigrationError(
        f"database schema version {version} is newer than this code knows ({latest}); "
        "upgrade the bot or restore a matching backup"
    )


# pg_advisory_xact_lock's key for migrations: a constant no other lock of ours uses; held
# until the migration's transaction ends.
_PG_MIGRATION_LOCK = 0x0A7010A4

_PG_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


async def _pg_version(conn: Any) -> int:
    # to_regclass follows search_path, as the migrations' own statements do.
    if await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL") is not True:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))


async def _migrate_postgresql(conn: Any) -> list[str]:
    """Each pending file in a transaction of its own that first takes the advisory lock
    and then reads the version: a second process waits for the lock, then sees the file
    applied and skips it. The table `schema_version` is created under the same lock."""
    migrations = available_migrations("postgresql")
    latest = migrations[-1].version if migrations else 0
    applied: list[str] = []
    async with conn.session() as session:
        for migration in migrations:
            async with session.raw.transaction():
                await session.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
                await session.raw.execute(_PG_VERSION_TABLE)
                version = await _pg_version(session)
                if version > latest:
                    raise _newer(version, latest)
                if migration.version <= version:
                    continue
                # The whole file in one call: PostgreSQL runs several statements sent
                # without parameters, and PL/pgSQL bodies keep their own `;`.
                await session.raw.execute(migration.sql)
                await session.execute(
                    "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                    (migration.version, migration.name),
                )
            applied.append(migration.name)
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration file into statements (our files keep `;` only at statement ends)."""
    import sqlite3

    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise MigrationError(f"migration ends inside a statement: {buffer.strip()[:60]}")
    return statements
