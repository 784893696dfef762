"""`python -m bot migrate` and `python -m bot backup FILE`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.cli.output import OutputError, check_target
from bot.config import load_settings
from storage.backup import backup_database
from storage.db import SQLITE_HEADER, Database, check_database_file
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
