"""`python -m bot migrate` and `python -m bot backup FILE`."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

from bot.config import load_settings
from storage.db import BUSY_TIMEOUT_MS, Database
from storage.migrations import MigrationError, migrate


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="bring the database to the current schema")
    parser.set_defaults(func=run_migrate)
    parser = subparsers.add_parser("backup", help="consistent copy of the live database")
    parser.add_argument("file", type=Path, help="where to write the copy")
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
    target: Path = args.file
    if not target.parent.is_dir():
        print(f"backup: directory {target.parent} does not exist", file=sys.stderr)
        return 2
    if not Path(settings.database_path).is_file():
        print(f"DATABASE_PATH: {settings.database_path} does not exist", file=sys.stderr)
        return 2
    backup_database(Path(settings.database_path), target)
    print(f"backed up {settings.database_path} to {target}")
    return 0


def backup_database(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the bot keeps writing."""
    with sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000) as src:
        with sqlite3.connect(target) as dst:
            src.backup(dst)
