"""Small reading helpers shared by the privacy statements: rows as plain dicts (the export
is JSON), and whether a table exists."""

from __future__ import annotations

from typing import Any

from storage.db import Connection


async def rows(conn: Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    # A row's keys() paired with its values in column order: the names the statement gave.
    return [dict(zip(row.keys(), row, strict=True)) for row in await conn.fetchall(sql, params)]


async def has_table(conn: Connection, name: str) -> bool:
    """Tables of optional features (the relay's) may be absent from an older database."""
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
    )
