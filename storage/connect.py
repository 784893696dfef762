"""Which database a setting names: a `postgresql://` (or `postgres://`) URL is PostgreSQL,
anything else a SQLite file path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from storage.db import Database

if TYPE_CHECKING:
    from storage.postgres import PostgresDatabase

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(value: str | Path) -> bool:
    return isinstance(value, str) and value.lower().startswith(POSTGRES_SCHEMES)


def open_database(path_or_url: str | Path) -> Database | PostgresDatabase:
    """The database, not yet open (`async with open_database(...) as db`)."""
    if is_postgres_url(path_or_url):
        # Imported here: a SQLite deployment never loads the driver.
        from storage.postgres import PostgresDatabase

        return PostgresDatabase(str(path_or_url))
    return Database(path_or_url)
