"""Storage's `?` statements become psycopg's `%s` ones: placeholders outside quotes only,
every literal `%` doubled (psycopg reads `%` inside quotes too)."""

from __future__ import annotations

import pytest

from storage.postgres import PostgresDatabase, translate


@pytest.mark.parametrize(
    ("sqlite", "postgresql"),
    [
        ("SELECT 1", "SELECT 1"),
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        (
            "INSERT INTO t (a, b) VALUES (?, ?) RETURNING id",
            "INSERT INTO t (a, b) VALUES (%s, %s) RETURNING id",
        ),
        ("SELECT '?', ?", "SELECT '?', %s"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
        ("SELECT '', ?", "SELECT '', %s"),
        ('SELECT "odd?name" FROM t WHERE x = ?', 'SELECT "odd?name" FROM t WHERE x = %s'),
        ("WHERE name LIKE 'a%' AND x = ?", "WHERE name LIKE 'a%%' AND x = %s"),
        ("WHERE name LIKE ? || '%'", "WHERE name LIKE %s || '%%'"),
        ("SELECT n % 2 FROM t WHERE n > ?", "SELECT n %% 2 FROM t WHERE n > %s"),
        ("SELECT '%s', ?", "SELECT '%%s', %s"),
        ("SELECT 'a''?''b' || ? || 'c?'", "SELECT 'a''?''b' || %s || 'c?'"),
    ],
)
def test_translation(sqlite: str, postgresql: str) -> None:
    assert translate(sqlite) == postgresql


async def test_the_server_reads_them_as_written(pg_url: str) -> None:
    async with PostgresDatabase(pg_url) as db:
        assert await db.fetchval("SELECT ? || '%'", ("50",)) == "50%"
        assert await db.fetchval("SELECT 'what?' || ?", ("!",)) == "what?!"
        assert await db.fetchval("SELECT 'it''s ' || ?", ("ok",)) == "it's ok"
        assert await db.fetchval("SELECT 'abc' LIKE 'a%' AND 7 % 2 = ?", (1,)) is True
        row = await db.fetchone('SELECT ? AS "odd?name", ? AS other', ("x", 2))
        assert row == {"odd?name": "x", "other": 2}
