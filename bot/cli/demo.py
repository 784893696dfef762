"""`python -m bot demo [--script FILE] [--tour] [--database FILE|URL]`: the bot offline,
against the sandbox. It reads the settings like every command (POLICY_PATH, TIMEZONE and
DEFAULT_LOCALE shape the demo) but plays its own managers and group, and never writes into
the bot's database (DATABASE_PATH or DATABASE_URL): its database is temporary unless
`--database` names a SQLite file or a postgresql:// URL."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.config import Settings, load_settings
from storage.connect import is_postgres_url
from storage.db import DatabaseFileError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="talk to the bot offline (no token), or play a script or the tour"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--script", type=Path, metavar="FILE", help="read input lines from FILE")
    source.add_argument("--tour", action="store_true", help="play the built-in journey")
    parser.add_argument(
        "--database",
        metavar="FILE|URL",
        help="keep the demo's data in FILE, or in the PostgreSQL database at URL (default: none)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.demo import run_demo
    from bot.sandbox.tour import TOUR_STEPS

    settings = load_settings()
    given: str | None = getattr(args, "database", None)
    database: Path | str | None = None
    if given is not None:
        database = given.strip() if is_postgres_url(given.strip()) else Path(given)
        problem = (
            _url_problem(database, settings)
            if isinstance(database, str)
            else _database_problem(database, settings.database_path)
        )
        if problem:
            print(f"--database: {problem}", file=sys.stderr)
            return 2
    lines: list[str] | None = None
    if args.tour:
        lines = TOUR_STEPS
    elif args.script is not None:
        try:
            lines = args.script.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            print(f"--script: cannot read {args.script}: {reason}", file=sys.stderr)
            return 2
    overrides = {
        "policy_path": settings.policy_path,
        "timezone": settings.timezone,
        "default_locale": settings.default_locale,
    }
    try:
        code = asyncio.run(run_demo(lines, database_path=database, settings=overrides))
    except DatabaseFileError as error:
        # Said of the demo's own database: the option, not the bot's setting.
        text = str(error)
        for setting in ("DATABASE_URL", "DATABASE_PATH"):
            text = text.replace(setting, "--database", 1) if text.startswith(setting) else text
        print(text, file=sys.stderr)
        return 2
    if code:
        print(f"{args.script or '--tour'}: stopped at the line marked '!' above", file=sys.stderr)
        return 2
    return 0


def _url_problem(url: str, settings: Settings) -> str | None:
    if settings.database_url is not None and url == settings.database_url.get_secret_value():
        return "that is DATABASE_URL, the bot's own database; give another database"
    return None


def _database_problem(database: Path, live: Path) -> str | None:
    if database.is_dir():
        return f"{database} is a directory; give a file name"
    if not database.parent.is_dir():
        return f"directory {database.parent} does not exist"
    if database.exists() and live.exists() and database.samefile(live):
        return f"{database} is DATABASE_PATH, the bot's own database; give another file"
    return None
