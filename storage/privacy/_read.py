"""Small reading helpers shared by the privacy statements: rows as plain dicts (the export
is JSON), and the two questions about the schema itself (does a table exist, which tables
have a column), whose catalogue differs by database."""

from __future__ import annotations

from typing import Any

from storage.db import Connection


async def rows(conn: Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    # A row's keys() paired with its values in column order: the names the statement gave.
    return [dict(zip(row.keys(), row, strict=True)) for row in await conn.fetchall(sql, params)]


async def has_table(conn: Connection, name: str) -> bool:
    """Tables of optional features (the relay's) may be absent from an older database."""
    _sqlite_only(conn, "has_table")
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
    )


async def tables_with_column(conn: Connection, column: str) -> list[str]:
    """Names of the tables that have a column named `column`, in the catalogue's order.

    SQLite's form reads sqlite_master and each table's PRAGMA table_info; PostgreSQL's
    will read information_schema.columns (table_schema = current_schema())."""
    _sqlite_only(conn, "tables_with_column")
    found = []
    for table in await rows(conn, "SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = await rows(conn, f"PRAGMA table_info({table['name']})")
        if any(c["name"] == column for c in columns):
            found.append(table["name"])
    return found


def _sqlite_only(conn: Connection, what: str) -> None:
    # A loud stop rather than a catalogue query that fails somewhere less obvious.
    if conn.dialect != "sqlite":
        raise NotImplementedError(f"{what} has no {conn.dialect} form yet")
