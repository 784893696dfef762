"""Read what a test's database holds with the driver itself, not through storage/: a SQLite
file through sqlite3, a PostgreSQL schema's URL through psycopg (the `database` fixture's
two kinds of value)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def rows(database: Path | str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of one statement (`?` placeholders on SQLite, `%s` on PostgreSQL)."""
    if isinstance(database, Path):
        with sqlite3.connect(database) as conn:
            return conn.execute(sql, params).fetchall()
    import psycopg

    with psycopg.connect(database) as conn:
        return conn.execute(sql, params).fetchall()
