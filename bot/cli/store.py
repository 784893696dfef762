"""Which database a command works on, and the checks it makes before opening it.

DATABASE_URL (PostgreSQL) when set, else the SQLite file at DATABASE_PATH. The file checks
(the file exists, it is a SQLite database) are SQLite's; on PostgreSQL opening the
database is the check: a server that does not answer, refused credentials or no such
database is one line naming DATABASE_URL (storage.postgres.DatabaseUrlError), never the
password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.config import Settings
from storage.db import DatabaseFileError, check_database_file
from storage.migrations import MigrationError, current_version, latest_version


def on_postgres(settings: Settings) -> bool:
    return settings.database_url is not None


def setting_name(settings: Settings) -> str:
    """The variable an error about the database names."""
    return "DATABASE_URL" if on_postgres(settings) else "DATABASE_PATH"


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite file the bot writes, None on PostgreSQL (no file to protect)."""
    return None if on_postgres(settings) else Path(settings.database_path)


def require_existing(settings: Settings) -> None:
    """A command that reads what is there: on SQLite the file must exist and be a
    database (on PostgreSQL, opening the database checks it)."""
    path = sqlite_file(settings)
    if path is None:
        return
    if not path.is_file():
        raise DatabaseFileError(f"DATABASE_PATH: {path} does not exist")
    check_database_file(path)


async def require_current_schema(conn: Any) -> None:
    """Reading only: an older database is reported, never migrated behind the bot's back,
    and a newer one is refused, since this code may misread it."""
    version, latest = await current_version(conn), latest_version()
    if version < latest:
        raise MigrationError("database needs `python -m bot migrate` first")
    if version > latest:
        raise MigrationError(
            f"database schema version {version} is newer than this code knows ({latest}); "
            "upgrade the bot"
        )
