"""`python -m bot migrate`, `python -m bot backup FILE` and `python -m bot db copy --to URL`."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.cli.output import OutputError, check_target
from bot.cli.store import on_postgres, require_existing, sqlite_file
from bot.config import Settings, load_settings
from storage.backup import backup_database
from storage.connect import is_postgres_url, open_database
from storage.db import SQLITE_HEADER, Database, DatabaseFileError, check_database_file
from storage.migrations import migrate

# How pg_dump's custom-format archives begin.
PG_DUMP_HEADER = b"PGDMP"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("migrate", help="bring the database to the current schema")
    parser.set_defaults(func=run_migrate)
    parser = subparsers.add_parser("backup", help="consistent copy of the live database")
    parser.add_argument("file", type=Path, help="where to write the copy")
    parser.add_argument(
        "--force", action="store_true", help="overwrite FILE even if it is not a database copy"
    )
    parser.set_defaults(func=run_backup)
    parser = subparsers.add_parser("db", help="move the database")
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    copy = actions.add_parser(
        "copy", help="copy the SQLite database (DATABASE_PATH) into an empty PostgreSQL one"
    )
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host/name")
    copy.set_defaults(func=run_copy)


def run_migrate(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def apply() -> list[str]:
        async with open_database(settings.database) as db:
            return await migrate(db.conn)

    applied = asyncio.run(apply())
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    settings = load_settings()
    if on_postgres(settings):
        return _pg_backup(settings, args.file, force=args.force)
    source = Path(settings.database_path)
    target: Path = args.file
    if not source.is_file() or source.stat().st_size == 0:
        state = "is empty" if source.is_file() else "does not exist"
        print(f"DATABASE_PATH: {source} {state}: nothing to back up", file=sys.stderr)
        return 2
    require_existing(settings)
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


def _pg_backup(settings: Settings, target: Path, *, force: bool) -> int:
    """pg_dump's custom format into a temporary file beside FILE, renamed over it once
    pg_dump has finished: FILE is a whole dump or is left as it was."""
    from storage.postgres import describe

    url = settings.database
    assert isinstance(url, str)
    try:
        check_target(
            target,
            "backup",
            database=None,
            ours=lambda head: head.startswith(PG_DUMP_HEADER),
            kind="pg_dump archive",
            force=force,
        )
    except OutputError as error:
        print(error, file=sys.stderr)
        return 2
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        print(
            "backup: pg_dump is not on PATH; install PostgreSQL's client tools, or run where"
            f' they are: pg_dump --format=custom --file {target} "$DATABASE_URL"',
            file=sys.stderr,
        )
        return 2
    # The password goes to pg_dump in its environment, not on its command line, where
    # any user of the machine could read it.
    address, password = _without_password(url)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = password
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    partial = Path(name)
    try:
        done = subprocess.run(
            [pg_dump, "--format=custom", "--file", str(partial), address],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            reason = lines[0] if lines else f"exit status {done.returncode}"
            if password:
                reason = reason.replace(password, "***")
            print(f"DATABASE_URL: pg_dump failed, nothing written: {reason}", file=sys.stderr)
            return 2
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    print(f"backed up postgresql://{describe(url)} to {target}")
    return 0


def _without_password(url: str) -> tuple[str, str | None]:
    parts = urlsplit(url)
    if not parts.password:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}")), parts.password


def run_copy(args: argparse.Namespace) -> int:
    from storage.postgres import PostgresDatabase, describe
    from storage.transfer import TransferError, copy_sqlite_to_postgres

    url: str = args.to.strip()
    if not is_postgres_url(url):
        print(
            "--to: give a PostgreSQL URL, e.g. postgresql://bot@db.example:5432/loans",
            file=sys.stderr,
        )
        return 2
    settings = load_settings()
    source = sqlite_file(settings) or Path(settings.database_path)
    if not source.is_file() or source.stat().st_size == 0:
        state = "is empty" if source.is_file() else "does not exist"
        print(f"DATABASE_PATH: {source} {state}: nothing to copy", file=sys.stderr)
        return 2
    check_database_file(source)

    async def copy() -> tuple[int, int]:
        async with Database(source) as sqlite, PostgresDatabase(url) as target:
            result = await copy_sqlite_to_postgres(sqlite, target)
        return result.tables, result.rows

    try:
        tables, rows = asyncio.run(copy())
    except DatabaseFileError as error:
        # The target's connection problems say DATABASE_URL; here the URL is --to's.
        text = str(error)
        if text.startswith("DATABASE_URL"):
            text = "--to" + text.removeprefix("DATABASE_URL")
        print(text, file=sys.stderr)
        return 2
    except TransferError as error:
        print(f"db copy: nothing copied: {error}", file=sys.stderr)
        return 2
    print(
        f"copied {tables} tables, {rows} rows to postgresql://{describe(url)};"
        " counts and checksums match"
    )
    return 0
