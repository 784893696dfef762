"""`python -m bot migrate` and `python -m bot backup FILE`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
from contextlib import closing
from pathlib import Path

from bot.cli.output import OutputError, check_target
from bot.config import load_settings
from storage.db import (
    BUSY_TIMEOUT_MS,
    SQLITE_HEADER,
    Database,
    DatabaseFileError,
    check_database_file,
    locked_message,
)
from storage.migrations import MigrationError, migrate


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="bring the database to the current schema")
    parser.set_defaults(func=run_migrate)
    parser = subparsers.add_parser("backup", help="consistent copy of the live database")
    parser.add_argument("file", type=Path, help="where to write the copy")
    parser.add_argument(
        "--force", action="store_true", help="overwrite FILE even if it is not a database copy"
    )
    parser.set_defaults(func=run_backup)


def run_migrate(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def apply() -> list[str]:
        async with Database(settings.database_path) as db:
            return await migrate(db.conn)

    try:
        applied = asyncio.run(apply())
    except MigrationError as error:
        print(f"DATABASE_PATH: {error}", file=sys.stderr)
        return 2
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    settings = load_settings()
    source = Path(settings.database_path)
    target: Path = args.file
    if not source.is_file() or source.stat().st_size == 0:
        state = "is empty" if source.is_file() else "does not exist"
        print(f"DATABASE_PATH: {source} {state}: nothing to back up", file=sys.stderr)
        return 2
    check_database_file(source)
    try:
        check_target(
            target,
            "backup",
            database=source,
            ours=lambda head: head.startswith(SQLITE_HEADER),
            kind="database copy",
            force=args.force,
        )
    except OutputError as error:
        print(error, file=sys.stderr)
        return 2
    backup_database(source, target)
    print(f"backed up {source} to {target}")
    return 0


def backup_database(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the bot keeps writing. It is
    made beside the target and renamed over it once complete, so a failure (a locked or
    broken source) leaves no empty or partial copy behind."""
    try:
        with closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)) as src:
            # A read lock first, waited for up to the busy timeout (the backup itself
            # retries a locked source forever), and before any file is made.
            src.execute("BEGIN")
            src.execute("SELECT COUNT(*) FROM sqlite_master")
            _copy(src, target)
            src.execute("COMMIT")
    except sqlite3.OperationalError as error:
        if "locked" in str(error):
            raise DatabaseFileError(locked_message(source)) from None
        raise


def _copy(src: sqlite3.Connection, target: Path) -> None:
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    partial = Path(name)
    try:
        with closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
