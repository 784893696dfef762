"""Small reading helpers shared by the privacy statements: rows as plain dicts (the export
is JSON), and the two questions about the schema itself (does a table exist, which tables
have a column), whose catalogue differs by database."""

from __future__ import annotations

from typing import Any

from storage.db import Connection

# Only the schema the connection works in: a PostgreSQL server holds other schemas (other
# deployments, each test's own) whose tables are not this database's.
_HAS_TABLE = {
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
    "postgresql": "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema()"
    " AND table_type = 'BASE TABLE' AND table_name = ?",
}
_TABLES_WITH_COLUMN_PG = (
    "SELECT k.table_name AS name FROM information_schema.columns k"
    " JOIN information_schema.tables t"
    " ON t.table_schema = k.table_schema AND t.table_name = k.table_name"
    " WHERE k.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
    " AND k.column_name = ? ORDER BY k.table_name"
)


async def rows(conn: Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    found = await conn.fetchall(sql, params)
    if found and isinstance(found[0], dict):
        # PostgreSQL's rows are dicts already; copies, since callers change them.
        return [dict(row) for row in found]
    # A row's keys() paired with its values in column order: the names the statement gave.
    return [dict(zip(row.keys(), row, strict=True)) for row in found]


async def has_table(conn: Connection, name: str) -> bool:
    """Tables of optional features (the relay's) may be absent from an older database."""
    return bool(await conn.fetchval(_HAS_TABLE[conn.dialect], (name,)))


async def tables_with_column(conn: Connection, column: str) -> list[str]:
    """Names of the tables that have a column named `column` (SQLite: in the catalogue's
    order; PostgreSQL: by name)."""
    if conn.dialect == "postgresql":
        return [table["name"] for table in await rows(conn, _TABLES_WITH_COLUMN_PG, (column,))]
    found = []
    for table in await rows(conn, "SELECT name FROM sqlite_master WHERE type = 'table'"):
        columns = await rows(conn, f"PRAGMA table_info({table['name']})")
        if any(c["name"] == column for c in columns):
            found.append(table["name"])
    return found
