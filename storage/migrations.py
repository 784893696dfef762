"""Numbered SQL migrations, applied in order and tracked with PRAGMA user_version.

Each file `sql/NNNN_name.sql` runs in one transaction together with the bump of
user_version, so a migration is applied entirely or not at all and re-running is a no-op.
Applied files are never edited: a change to the schema is a new file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from storage.db import Connection

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(RuntimeError):
    """The database cannot be brought to this code's schema."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    folder = resources.files("storage") / "sql"
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


def latest_version() -> int:
    migrations = available_migrations()
    return migrations[-1].version if migrations else 0


async def current_version(conn: Connection) -> int:
    async with conn.raw.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0])


async def migrate(conn: Connection) -> list[str]:
    """Apply every migration newer than the database; return the names applied."""
    migrations = available_migrations()
    version = await current_version(conn)
    # SQLite's own statements and transaction, on aiosqlite's connection itself.
    raw = conn.raw
    latest = migrations[-1].version if migrations else 0
    if version > latest:
        raise MigrationError(
            f"database schema version {version} is newer than this code knows ({latest}); "
            "upgrade the bot or restore a matching backup"
        )
    applied = []
    for migration in migrations:
        if migration.version <= version:
            continue
        # executescript would commit on its own; run statements inside our own transaction.
        await raw.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migration.sql):
                await raw.execute(statement)
            await raw.execute(f"PRAGMA user_version = {migration.version}")
        except BaseException:
            await raw.execute("ROLLBACK")
            raise
        await raw.execute("COMMIT")
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
