"""Small reading helpers shared by the privacy statements: rows as plain dicts (the export
is JSON), one row, one value, and whether a table exists."""

from __future__ import annotations

from typing import Any

from storage.db import Connection, Row


async def rows(
    conn: Connection, sql: str, params: tuple | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    async with conn.execute(sql, params) as cursor:
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]


async def one(conn: Connection, sql: str, params: tuple = ()) -> Row | None:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def value(conn: Connection, sql: str, params: tuple = ()) -> Any:
    row = await one(conn, sql, params)
    return None if row is None else row[0]


async def has_table(conn: Connection, name: str) -> bool:
    """Tables of optional features (the relay's) may be absent from an older database."""
    return bool(
        await value(conn, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    )
