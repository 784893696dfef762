"""Which database a setting names: a `postgresql://` (or `postgres://`) URL is PostgreSQL,
anything else a SQLite file path."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from storage.db import Database, DatabaseFileError, check_database_file

if TYPE_CHECKING:
    from storage.postgres import PostgresDatabase

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(value: str | Path) -> bool:
    return isinstance(value, str) and value.lower().startswith(POSTGRES_SCHEMES)


def open_database(
    path_or_url: str | Path, *, application_name: str | None = None
) -> Database | PostgresDatabase:
    """The database, not yet open (`async with open_database(...) as db`). On PostgreSQL,
    `application_name` names the connections in pg_stat_activity (the URL's own wins)."""
    if is_postgres_url(path_or_url):
        # Imported here: a SQLite deployment never loads the driver.
        from storage.postgres import PostgresDatabase

        return PostgresDatabase(str(path_or_url), application_name=application_name)
    return Database(path_or_url)


async def check_database(path_or_url: str | Path) -> None:
    """Raise DatabaseFileError (DatabaseUrlError for a URL), one line naming the setting,
    unless the database can be used by this code: reachable, credentials accepted, a
    SQLite file, and a schema no newer than this code's migrations. A missing or empty
    SQLite file is fine (the bot creates and migrates it)."""
    from storage.migrations import current_version, latest_version

    if is_postgres_url(path_or_url):
        from storage.postgres import DatabaseUrlError, PostgresDatabase, describe

        async with PostgresDatabase(str(path_or_url), min_size=1, max_size=1) as db:
            version = await current_version(db.conn)
        latest = latest_version("postgresql")
        if version > latest:
            raise DatabaseUrlError(
                f"DATABASE_URL: {describe(str(path_or_url))}: {_newer(version, latest)}"
            )
        return
    check_database_file(path_or_url)
    file = Path(path_or_url)
    if str(path_or_url) == ":memory:" or not _has_data(file):
        return
    async with Database(file) as db:
        version = await current_version(db.conn)
    latest = latest_version("sqlite")
    if version > latest:
        raise DatabaseFileError(f"DATABASE_PATH: {file}: {_newer(version, latest)}")


def _newer(version: int, latest: int) -> str:
    return (
        f"schema version {version} is newer than this code knows ({latest}); "
        "upgrade the bot or restore a matching backup"
    )


def _has_data(file: Path) -> bool:
    return file.is_file() and file.stat().st_size > 0
